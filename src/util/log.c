/* Logger (ar/log.h). Lines are assembled in a local buffer and written with one
 * write(2) so lines from different threads never interleave. */
#include "ar/log.h"

#include "ar/common.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum log_level log_min_level = LOG_LEVEL_INFO;
static enum log_format log_fmt = LOG_FORMAT_LOGFMT;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_level_parse(const char *s, enum log_level *out)
{
    for (size_t i = 0; i < AR_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return AR_OK;
        }
    }
    return AR_EINVAL;
}

int log_format_parse(const char *s, enum log_format *out)
{
    if (strcmp(s, "logfmt") == 0) {
        *out = LOG_FORMAT_LOGFMT;
    } else if (strcmp(s, "json") == 0) {
        *out = LOG_FORMAT_JSON;
    } else {
        return AR_EINVAL;
    }
    return AR_OK;
}

void log_setup(enum log_level level, enum log_format format)
{
    log_min_level = level;
    log_fmt = format;
}

/* Appends s quoted for logfmt or JSON (both accept this escaping). */
static size_t put_quoted(char *out, size_t pos, size_t cap, const char *s)
{
    if (pos < cap) {
        out[pos++] = '"';
    }
    for (; *s != '\0' && pos + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[pos++] = '\\';
            out[pos++] = (char)c;
        } else if (c == '\n') {
            out[pos++] = '\\';
            out[pos++] = 'n';
        } else if (c < 0x20) {
            pos += (size_t)snprintf(out + pos, cap - pos, "\\u%04x", c);
        } else {
            out[pos++] = (char)c;
        }
    }
    if (pos < cap) {
        out[pos++] = '"';
    }
    return pos;
}

void log_write(enum log_level level, const char *component, const char *fmt, ...)
{
    char msg[2048];
    char line[4600];
    char ts[40];
    struct timeval tv;
    struct tm tm;
    size_t pos;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
    if (log_fmt == LOG_FORMAT_JSON) {
        pos = (size_t)snprintf(line, sizeof(line),
                               "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"msg\":", ts,
                               level_names[level], component);
        pos = put_quoted(line, pos, sizeof(line) - 3, msg);
        line[pos++] = '}';
    } else {
        pos = (size_t)snprintf(line, sizeof(line), "ts=%s level=%s component=%s msg=", ts,
                               level_names[level], component);
        pos = put_quoted(line, pos, sizeof(line) - 2, msg);
    }
    line[pos++] = '\n';
    if (write(STDERR_FILENO, line, pos) < 0) {
        /* nowhere left to report it */
    }
}
