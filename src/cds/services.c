/* services.c - load the JSON files in hooks/services/ and build the discovery document once. */
#include "cds/services.h"

#include "util/file.h"
#include "util/json.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVICE_FILE_MAX (1u << 20)
#define SERVICES_MAX 64
#define PATH_MAX_LEN 1024

static const char *const hook_names[HOOK_COUNT] = {"patient-view", "order-select", "order-sign"};

int cds_hook_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < HOOK_COUNT; i++)
        if (strcmp(hook_names[i], name) == 0)
            return i;
    return -1;
}

const char *cds_hook_name(enum cds_hook hook)
{
    return hook_names[hook];
}

static bool valid_id(const char *id)
{
    if (id == NULL || strlen(id) > 64)
        return false;
    for (const char *p = id; *p != '\0'; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
            return false;
    return true;
}

/* A prefetch template may only hold {{context.x}} and the four user tokens. */
static bool valid_template(const char *t)
{
    static const char *const user[] = {"userPractitionerId", "userPractitionerRoleId",
                                       "userPatientId", "userRelatedPersonId"};
    for (const char *p = strstr(t, "{{"); p != NULL; p = strstr(p + 2, "{{")) {
        const char *end = strstr(p, "}}");
        if (end == NULL)
            return false;
        size_t n = (size_t)(end - p - 2);
        bool ok = n > 8 && strncmp(p + 2, "context.", 8) == 0;
        for (size_t i = 0; !ok && i < sizeof user / sizeof user[0]; i++)
            ok = strlen(user[i]) == n && strncmp(p + 2, user[i], n) == 0;
        if (!ok)
            return false;
    }
    return true;
}

/* The members of a service's file: its discovery entry. */
static const char *const def_keys[] = {"id",          "hook",     "version",          "title",
                                       "description", "prefetch", "usageRequirements"};

static bool in_list(const char *const *list, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i], key) == 0)
            return true;
    return false;
}

/* A semantic version "MAJOR.MINOR.PATCH" of digits (CDS Hooks 3.0 discovery "version"). */
static bool valid_version(const char *v)
{
    int parts = 0;
    for (const char *p = v; p != NULL && *p != '\0'; parts++) {
        size_t digits = strspn(p, "0123456789");
        if (digits == 0 || digits > 4)
            return false;
        p += digits;
        if (*p == '.')
            p++;
        else if (*p != '\0')
            return false;
    }
    return parts == 3 && v[strlen(v) - 1] != '.';
}

static int check_def(json_object *def, const char *file, struct cds_service *s,
                     struct myocds_err *err)
{
    s->id = json_get_str(def, "id");
    if (!valid_id(s->id))
        return myocds_err_set(err, 500, "%s: id: must be [a-z0-9_-], at most 64", file);
    int hook = cds_hook_from_name(json_get_str(def, "hook"));
    if (hook < 0)
        return myocds_err_set(err, 500,
                              "%s: hook: must be patient-view, order-select or "
                              "order-sign",
                              file);
    s->hook = (enum cds_hook)hook;
    json_object_object_foreach(def, member, value)
    {
        (void)value;
        if (!in_list(def_keys, sizeof def_keys / sizeof def_keys[0], member))
            return myocds_err_set(err, 500, "%s: %s: unknown key", file, member);
    }
    if (!valid_version(json_get_str(def, "version")))
        return myocds_err_set(err, 500,
                              "%s: version: the CDS Hooks version implemented, as \"3.0.0\"", file);
    if (json_get_str(def, "title") == NULL || json_get_str(def, "description") == NULL)
        return myocds_err_set(err, 500, "%s: title and description: non-empty strings", file);
    json_object *usage = NULL;
    if (json_object_object_get_ex(def, "usageRequirements", &usage) &&
        json_get_str(def, "usageRequirements") == NULL)
        return myocds_err_set(err, 500, "%s: usageRequirements: must be a string", file);
    s->prefetch = json_get_obj(def, "prefetch");
    json_object *any = NULL;
    if (s->prefetch == NULL && json_object_object_get_ex(def, "prefetch", &any))
        return myocds_err_set(err, 500, "%s: prefetch: must be an object", file);
    if (s->prefetch == NULL)
        return 0; /* json-c's foreach must not see NULL */
    json_object_object_foreach(s->prefetch, key, tmpl)
    {
        if (!json_object_is_type(tmpl, json_type_string) ||
            !valid_template(json_object_get_string(tmpl)))
            return myocds_err_set(err, 500, "%s: prefetch.%s: not a valid template", file, key);
    }
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted *.json names in dir (malloc'd strings in a malloc'd array). */
static int list_json(const char *dir, char **names, int *n, struct myocds_err *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL)
        return myocds_err_set(err, 500, "%s: cannot open the services folder", dir);
    *n = 0;
    while ((e = readdir(d)) != NULL && *n < SERVICES_MAX) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0 && e->d_name[0] != '.')
            names[(*n)++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)*n, sizeof *names, cmp_names);
    return 0;
}

static int load_one(struct service_registry *r, const char *dir, const char *name,
                    struct myocds_err *err)
{
    char path[PATH_MAX_LEN];
    size_t len = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    char *text = file_read(path, SERVICE_FILE_MAX, &len, err);
    json_object *def = text != NULL ? json_parse_strict(text, len, err) : NULL;
    free(text);
    if (def == NULL)
        return myocds_err_set(err, 500, "%s: not valid JSON", path);
    struct cds_service *s = &r->v[r->n];
    s->def = def;
    r->n++;
    int rc = check_def(def, path, s, err);
    for (int i = 0; rc == 0 && i < r->n - 1; i++)
        if (strcmp(r->v[i].id, s->id) == 0 && r->v[i].hook == s->hook)
            rc = myocds_err_set(err, 500, "%s: id: used twice for the same hook", path);
    return rc;
}

static int build_discovery(struct service_registry *r)
{
    json_object *doc = json_object_new_object();
    json_object *arr = json_object_new_array();
    for (int i = 0; i < r->n; i++)
        json_object_array_add(arr, json_object_get(r->v[i].def));
    json_object_object_add(doc, "services", arr);
    r->discovery = json_dump(doc, &r->discovery_len);
    json_object_put(doc);
    return r->discovery != NULL ? 0 : -1;
}

struct service_registry *services_load(const char *dir, struct myocds_err *err)
{
    char *names[SERVICES_MAX];
    int n = 0;
    struct service_registry *r = calloc(1, sizeof *r);
    int rc = r != NULL ? list_json(dir, names, &n, err) : -1;
    if (rc == 0 && n == 0)
        rc = myocds_err_set(err, 500, "%s: no service definitions (*.json)", dir);
    if (rc == 0 && (r->v = calloc((size_t)n, sizeof *r->v)) == NULL)
        rc = -1;
    for (int i = 0; i < n; i++) {
        if (rc == 0)
            rc = load_one(r, dir, names[i], err);
        free(names[i]);
    }
    if (rc == 0 && build_discovery(r) != 0)
        rc = myocds_err_set(err, 500, "out of memory");
    if (rc != 0) {
        services_free(r);
        return NULL;
    }
    return r;
}

void services_free(struct service_registry *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < r->n; i++)
        json_object_put(r->v[i].def);
    free(r->v);
    free(r->discovery);
    free(r);
}

const struct cds_service *services_find(const struct service_registry *r, const char *id)
{
    for (int i = 0; id != NULL && i < r->n; i++)
        if (strcmp(r->v[i].id, id) == 0)
            return &r->v[i];
    return NULL;
}
