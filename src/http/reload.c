/* reload.c - SIGHUP: the configuration and hooks/ loaded aside, then swapped in. */
#include "http/reload.h"

#include "http/server.h"
#include "util/config.h"
#include "util/log.h"

#include <stdio.h>
#include <stdlib.h>

#define RELOAD_PATH_LOG_MAX 512 /* the hooks path as logged */

void http_server_reload(struct http_server *s, const char *config_path)
{
    struct myocds_err err = {0};
    struct myocds_engine *engine = NULL;
    char hooks[RELOAD_PATH_LOG_MAX];
    struct cfg *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL || cfg_load(config_path, cfg, &err) != 0) {
        log_error("reload refused, keeping the running set: config: %s",
                  cfg != NULL ? err.msg : "out of memory");
        free(cfg);
        return;
    }
    snprintf(hooks, sizeof hooks, "%s", cfg->hooks_dir);
    if (myocds_engine_load(cfg->hooks_dir, &engine, &err) != 0) {
        log_error("reload refused, keeping the running set: hooks %s: %s", hooks, err.msg);
        cfg_free(cfg);
        free(cfg);
        return;
    }
    enum log_level level = cfg->log_level;
    if (http_server_swap(s, cfg, engine, &err) != 0) { /* takes cfg and engine */
        log_error("reload refused, keeping the running set: %s", err.msg);
        return;
    }
    log_set_level(level);
    log_notice("reloaded the config and hooks %s", hooks);
}
