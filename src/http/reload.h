/* reload.h - what `myocds serve` does on SIGHUP.
 *
 * Depends on server.h (http_server_swap), which in turn depends on snapshot.h: reload ->
 * server -> snapshot, and the snapshot knows nothing of the server.
 */
#ifndef MYOCDS_HTTP_RELOAD_H
#define MYOCDS_HTTP_RELOAD_H

struct http_server;

/* SIGHUP: loads config_path (NULL: defaults) and its hooks_dir aside and, when both load,
 * swaps them in (http_server_swap) and applies log_level; else the running set stays and
 * the log says which file and field failed. */
void http_server_reload(struct http_server *s, const char *config_path);

#endif
