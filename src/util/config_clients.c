/* config_clients.c - "clients": what each EHR's CDS client can show, keyed by the verified
 * JWT iss, with a "default".
 *
 * {"default": {...}, "<iss>": {"actionSelectionBehavior": bool, "selectionBehavior":
 * ["any", "at-most-one"], "maxActionsPerSuggestion": N, "topicCodeAlphanumeric": bool}}:
 * every member optional; an unknown one, or one of the wrong type, stops the load naming it.
 */
#include "util/config.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

#define CLIENTS_MAX 64
#define CLIENT_MAX_ACTIONS 100

static const char *const client_keys[] = {"actionSelectionBehavior", "selectionBehavior",
                                          "maxActionsPerSuggestion", "topicCodeAlphanumeric"};

/* The defaults: a CDS Hooks 2.0 client. */
static const struct myocds_client_profile client_default = {false, true, true, 0, false};

static int bad_key(struct myocds_err *err, const char *iss, const char *key, const char *what)
{
    return myocds_err_set(err, 400, "config: clients.%.128s%s%s: %s", iss, key[0] ? "." : "", key,
                          what);
}

/* selectionBehavior: a non-empty list of "any" and "at-most-one", nothing else. */
static int load_selection(json_object *v, const char *iss, struct myocds_client_profile *p,
                          struct myocds_err *err)
{
    size_t n = json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
    bool bad = n == 0;
    p->select_any = p->select_at_most_one = false;
    for (size_t i = 0; i < n && !bad; i++) {
        json_object *e = json_object_array_get_idx(v, i);
        const char *s = json_object_is_type(e, json_type_string) ? json_object_get_string(e) : "";
        if (strcmp(s, "any") == 0)
            p->select_any = true;
        else if (strcmp(s, "at-most-one") == 0)
            p->select_at_most_one = true;
        else
            bad = true;
    }
    return bad ? bad_key(err, iss, "selectionBehavior", "a list of \"any\" and \"at-most-one\"")
               : 0;
}

/* One entry into *p. */
static int load_profile(json_object *o, const char *iss, struct myocds_client_profile *p,
                        struct myocds_err *err)
{
    *p = client_default;
    if (!json_object_is_type(o, json_type_object))
        return bad_key(err, iss, "", "must be an object");
    json_object_object_foreach(o, key, v)
    {
        size_t k = 0;
        while (k < sizeof client_keys / sizeof client_keys[0] && strcmp(client_keys[k], key) != 0)
            k++;
        if (k == sizeof client_keys / sizeof client_keys[0])
            return myocds_err_set(err, 400, "config: unknown key clients.%.128s.%.64s", iss, key);
        if ((k == 0 || k == 3) && !json_object_is_type(v, json_type_boolean))
            return bad_key(err, iss, key, "must be true or false");
        if (k == 0)
            p->action_selection = json_object_get_boolean(v);
        else if (k == 3)
            p->topic_alphanumeric = json_object_get_boolean(v);
        else if (k == 1 && load_selection(v, iss, p, err) != 0)
            return -400;
        else if (k == 2) {
            int64_t n = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
            if (n < 1 || n > CLIENT_MAX_ACTIONS)
                return bad_key(err, iss, key, "must be an integer from 1 to 100");
            p->max_actions = (int)n;
        }
    }
    return 0;
}

int cfg_load_clients(struct cfg *c, json_object *root, struct myocds_err *err)
{
    json_object *clients = NULL;
    if (!json_object_object_get_ex(root, "clients", &clients))
        return 0;
    if (!json_object_is_type(clients, json_type_object) ||
        json_object_object_length(clients) > CLIENTS_MAX)
        return myocds_err_set(err, 400, "config: clients must be an object of at most %d entries",
                              CLIENTS_MAX);
    size_t n = (size_t)json_object_object_length(clients);
    c->clients = calloc(n > 0 ? n : 1, sizeof *c->clients);
    if (c->clients == NULL)
        return myocds_err_set(err, 500, "out of memory");
    json_object_object_foreach(clients, iss, entry)
    {
        struct cfg_client *cl = &c->clients[c->n_clients];
        if (iss[0] == '\0')
            return bad_key(err, iss, "", "an empty issuer");
        if ((cl->iss = strdup(iss)) == NULL)
            return myocds_err_set(err, 500, "out of memory");
        c->n_clients++; /* so cfg_free releases what is filled so far */
        int rc = load_profile(entry, iss, &cl->profile, err);
        if (rc != 0)
            return rc;
    }
    return 0;
}

const struct myocds_client_profile *cfg_client(const struct cfg *cfg, const char *iss)
{
    const struct myocds_client_profile *fallback = NULL;
    for (size_t i = 0; i < cfg->n_clients; i++) {
        if (iss != NULL && strcmp(cfg->clients[i].iss, iss) == 0)
            return &cfg->clients[i].profile;
        if (strcmp(cfg->clients[i].iss, "default") == 0)
            fallback = &cfg->clients[i].profile;
    }
    return fallback;
}
