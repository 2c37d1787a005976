/* Error strings, located error messages and the aborting allocation wrappers declared in
 * ar/common.h. */
#include "ar/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ar_strerror(int err)
{
    switch (err) {
    case AR_OK:
        return "ok";
    case AR_ENOMEM:
        return "out of memory";
    case AR_EINVAL:
        return "invalid argument";
    case AR_ENOTFOUND:
        return "not found";
    case AR_ELIMIT:
        return "limit exceeded";
    case AR_EIO:
        return "input/output error";
    case AR_EDB:
        return "database error";
    case AR_EEXIST:
        return "already exists";
    case AR_ESTATE:
        return "invalid state";
    default:
        return "unknown error";
    }
}

void ar_error_set(struct ar_error *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
}

void ar_error_prefix(struct ar_error *err, const char *fmt, ...)
{
    char prefix[512];
    char old[sizeof(err->msg)];
    va_list ap;

    if (err == NULL) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", prefix, old);
}

static void oom(size_t n)
{
    fprintf(stderr, "level=error component=mem msg=\"out of memory\" bytes=%zu\n", n);
    abort();
}

void *ar_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL) {
        oom(n);
    }
    return p;
}

void *ar_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (p == NULL) {
        oom(count * size);
    }
    return p;
}

void *ar_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL) {
        oom(n);
    }
    return q;
}

char *ar_strdup(const char *s)
{
    return ar_strndup(s, strlen(s));
}

long ar_bsearch_name(const void *base, size_t n, size_t size, size_t name_off, const char *key)
{
    const char *p = base;
    size_t lo = 0;
    size_t hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name;
        int c;

        memcpy(&name, p + mid * size + name_off, sizeof(name));
        c = strcmp(name, key);
        if (c == 0) {
            return (long)mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return -(long)lo - 1;
}

char *ar_strndup(const char *s, size_t n)
{
    char *p = ar_malloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ar_asprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return ar_strdup("");
    }
    p = ar_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
