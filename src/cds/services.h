/* services.h - the CDS service registry: the JSON files in hooks/services/, validated at load. */
#ifndef MYOCDS_CDS_SERVICES_H
#define MYOCDS_CDS_SERVICES_H

#include "clinical/view.h"
#include "myocds/myocds.h"

#include <json-c/json.h>
#include <stddef.h>

struct cds_service {
    const char *id; /* borrowed from def */
    enum cds_hook hook;
    json_object *def;      /* the whole definition, owned */
    json_object *prefetch; /* key -> template (borrowed from def), or NULL */
};

struct service_registry {
    struct cds_service *v;
    int n;
    char *discovery; /* {"services":[...]}, owned */
    size_t discovery_len;
};

/* Loads every *.json in dir (sorted by name). A bad file fails naming file and field.
 * Owned result: free with services_free(). */
struct service_registry *services_load(const char *dir, struct myocds_err *err);
void services_free(struct service_registry *r);

const struct cds_service *services_find(const struct service_registry *r, const char *id);

/* "order-sign" -> HOOK_ORDER_SIGN; -1 when unknown. */
int cds_hook_from_name(const char *name);
const char *cds_hook_name(enum cds_hook hook);

#endif
