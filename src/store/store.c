/* store.c - backend selection and dispatch: the top of src/store/ (see store.h). */
#include "store/store.h"

#include "store/store_backend.h"
#include "util/config.h"

#include <stddef.h>

int store_open(const struct cfg *cfg, struct store **out, struct myocds_err *err)
{
    if (cfg->postgres_url != NULL)
        return store_pg_open(cfg->postgres_url, out, err);
    return store_sqlite_open(cfg->data_dir, out, err);
}

int store_put_feedback(struct store *st, const char *service_id,
                       const struct myocds_feedback *items, size_t n, const char *iss,
                       const char *tenant, struct myocds_err *err)
{
    return st->ops->put_feedback(st, service_id, items, n, iss, tenant, err);
}

bool store_shares_cards_shown(const struct store *st)
{
    return st != NULL && st->ops->card_shown != NULL;
}

int store_card_shown(struct store *st, const unsigned char *key, size_t key_len, long window_s,
                     bool *seen, struct myocds_err *err)
{
    *seen = false;
    if (!store_shares_cards_shown(st))
        return myocds_err_set(err, 500, "the store keeps no memory of cards shown");
    return st->ops->card_shown(st, key, key_len, window_s, seen, err);
}

int store_shown_secret(struct store *st, unsigned char *out, size_t len)
{
    if (!store_shares_cards_shown(st) || st->ops->shown_secret == NULL)
        return -1;
    return st->ops->shown_secret(st, out, len);
}

bool store_shares_jtis(const struct store *st)
{
    return st != NULL && st->ops->jti_claim != NULL;
}

int store_jti_claim(struct store *st, const char *iss, const char *jti, long long forget_at,
                    const char *retry_key, long window_s, bool *seen, struct myocds_err *err)
{
    *seen = false;
    if (!store_shares_jtis(st))
        return myocds_err_set(err, 500, "the store keeps no memory of JWT ids");
    return st->ops->jti_claim(st, iss, jti, forget_at, retry_key, window_s, seen, err);
}

int store_query(struct store *st, const char *sql, const char *p1, const char *p2, store_row_fn fn,
                void *ctx, struct myocds_err *err)
{
    return st->ops->query(st, sql, p1, p2, fn, ctx, err);
}

enum store_dialect store_dialect(const struct store *st)
{
    return st->ops->dialect;
}

void store_close(struct store *st)
{
    if (st == NULL)
        return;
    store_base_close(st);
    st->ops->close(st);
}
