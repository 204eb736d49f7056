/* store.c - backend selection and dispatch for the feedback store. */
#include "store/store.h"

#include "util/config.h"
#include "util/log.h"

int store_open(const struct cfg *cfg, struct store **out, struct myocds_err *err)
{
    if (cfg->postgres_url != NULL)
        log_warnx("feedback.postgres_url is set but the PostgreSQL store is not built yet; "
                  "feedback goes to SQLite in %s",
                  cfg->data_dir);
    return store_sqlite_open(cfg->data_dir, out, err);
}

int store_put_feedback(struct store *st, const char *service_id,
                       const struct myocds_feedback *items, size_t n, const char *iss,
                       const char *tenant, struct myocds_err *err)
{
    return st->ops->put_feedback(st, service_id, items, n, iss, tenant, err);
}

int store_cards_issued(struct store *st, const char *service_id, const struct store_card *cards,
                       size_t n, struct myocds_err *err)
{
    return st->ops->cards_issued(st, service_id, cards, n, err);
}

void store_close(struct store *st)
{
    if (st != NULL)
        st->ops->close(st);
}
