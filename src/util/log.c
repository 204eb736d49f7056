/* log.c - JSON-lines logging to stderr, one write(2) per line. */
#include "util/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_RESERVE 8    /* room kept for the closing "}\n of a cut line */
#define LOG_ESCAPE_MAX 6 /* longest escape of one byte: \u001f */
#define LOG_MSG_MAX 1024 /* a printf-style message before escaping */

static atomic_int log_min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error", "notice"};

struct line {
    char buf[LOG_LINE_MAX];
    size_t len;
    int full; /* set once something did not fit: nothing more is added */
};

void log_set_level(enum log_level level)
{
    atomic_store(&log_min_level, (int)level);
}

bool log_level_parse(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < (size_t)LOG_LEVEL_NOTICE; i++) { /* notice is not a setting */
        if (strcmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return true;
        }
    }
    return false;
}

/* Appends raw bytes when they fit with the reserve, else marks the line full. */
static void put_raw(struct line *l, const char *s)
{
    size_t n = strlen(s);
    if (l->full || l->len + n + LOG_RESERVE > sizeof l->buf) {
        l->full = 1;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* Appends s as a quoted JSON string; a long string is cut but always closed. */
static void put_str(struct line *l, const char *s)
{
    if (l->full || l->len + 2 + LOG_RESERVE > sizeof l->buf) {
        l->full = 1;
        return;
    }
    l->buf[l->len++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (l->len + LOG_ESCAPE_MAX + 1 + LOG_RESERVE > sizeof l->buf) {
            l->full = 1;
            break;
        }
        char *o = l->buf + l->len;
        if (*p == '"' || *p == '\\') {
            o[0] = '\\';
            o[1] = (char)*p;
            l->len += 2;
        } else if (*p < 0x20 || *p == 0x7f) {
            l->len += (size_t)snprintf(o, LOG_ESCAPE_MAX + 1, "\\u%04x", *p);
        } else {
            o[0] = (char)*p;
            l->len++;
        }
    }
    l->buf[l->len++] = '"';
}

static void put_key(struct line *l, const char *key)
{
    put_raw(l, ",");
    put_str(l, key);
    put_raw(l, ":");
}

static void put_time(struct line *l)
{
    struct timespec ts;
    struct tm tm;
    char when[32];
    char out[64];
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, sizeof out, "{\"ts\":\"%s.%03dZ\"", when, (int)(ts.tv_nsec / 1000000L) % 1000);
    put_raw(l, out);
}

void log_fields(enum log_level level, const char *req_id, const char *msg,
                const struct log_field *fields, size_t n)
{
    struct line l = {.len = 0};
    if ((int)level < atomic_load(&log_min_level))
        return;
    put_time(&l);
    put_key(&l, "level");
    put_str(&l, level_names[level]);
    put_key(&l, "msg");
    put_str(&l, msg != NULL ? msg : "");
    if (req_id != NULL) {
        put_key(&l, "req_id");
        put_str(&l, req_id);
    }
    for (size_t i = 0; i < n && !l.full; i++) {
        char num[32];
        put_key(&l, fields[i].key);
        if (fields[i].str != NULL) {
            put_str(&l, fields[i].str);
        } else {
            snprintf(num, sizeof num, "%lld", fields[i].num);
            put_raw(&l, num);
        }
    }
    /* The reserve guarantees room for the end, even when the line was cut. */
    memcpy(l.buf + l.len, "}\n", 2);
    l.len += 2;
    ssize_t w = write(STDERR_FILENO, l.buf, l.len);
    (void)w; /* nowhere left to report a failing stderr */
}

__attribute__((format(printf, 3, 0))) static void log_va(enum log_level level, int with_errno,
                                                         const char *fmt, va_list ap)
{
    char msg[LOG_MSG_MAX];
    int saved = errno;
    if ((int)level < atomic_load(&log_min_level))
        return;
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (with_errno && n >= 0 && (size_t)n < sizeof msg)
        snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(saved));
    log_fields(level, NULL, msg, NULL, 0);
}

#define LOG_VA_BODY(level, with_errno)                                                             \
    do {                                                                                           \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        log_va((level), (with_errno), fmt, ap);                                                    \
        va_end(ap);                                                                                \
    } while (0)

void log_error(const char *fmt, ...)
{
    LOG_VA_BODY(LOG_LEVEL_ERROR, 0);
}

void log_warn(const char *fmt, ...)
{
    LOG_VA_BODY(LOG_LEVEL_WARN, 1);
}

void log_warnx(const char *fmt, ...)
{
    LOG_VA_BODY(LOG_LEVEL_WARN, 0);
}

void log_info(const char *fmt, ...)
{
    LOG_VA_BODY(LOG_LEVEL_INFO, 0);
}

void log_debug(const char *fmt, ...)
{
    LOG_VA_BODY(LOG_LEVEL_DEBUG, 0);
}

void log_notice(const char *fmt, ...)
{
    LOG_VA_BODY(LOG_LEVEL_NOTICE, 0);
}
