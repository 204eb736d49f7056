/* log.h - one JSON object per line on stderr: ts, level, msg, optional req_id and fields.
 *
 * Every line is formatted in a local buffer and written with a single write(2), so lines
 * from concurrent threads never interleave. Never pass patient data, request bodies,
 * tokens or Authorization headers to these functions.
 */
#ifndef MYOCDS_UTIL_LOG_H
#define MYOCDS_UTIL_LOG_H

#include <stdbool.h>
#include <stddef.h>

#define LOG_LINE_MAX 2048 /* a longer line is cut, still valid JSON */

enum log_level {
    LOG_LEVEL_DEBUG = 0,
    LOG_LEVEL_INFO,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR,
    LOG_LEVEL_NOTICE, /* life-cycle lines (listening, reloaded, stopped): never filtered */
};

/* One extra member of a log line: a string (str != NULL) or an integer. */
struct log_field {
    const char *key;
    const char *str;
    long long num;
};

#define LOG_STR(k, v) ((struct log_field){.key = (k), .str = (v)})
#define LOG_NUM(k, v) ((struct log_field){.key = (k), .num = (long long)(v)})

/* Lines below this level are dropped; set once at start-up, before threads. */
void log_set_level(enum log_level level);
/* "debug" | "info" | "warn" | "error" -> level; false when the name is unknown. */
bool log_level_parse(const char *name, enum log_level *out);

/* Writes one line; req_id and fields may be NULL / 0. All strings are borrowed. */
void log_fields(enum log_level level, const char *req_id, const char *msg,
                const struct log_field *fields, size_t n);

/* printf-style messages (OpenBSD vocabulary): log_warn appends strerror(errno). */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A life-cycle line, written whatever the level ("listening on ..." must always show). */
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
