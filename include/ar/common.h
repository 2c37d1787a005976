/* Shared basics: error codes, the located error message type, and allocation wrappers
 * that abort on out-of-memory (limits on untrusted input are ordinary errors instead). */
#ifndef AR_COMMON_H
#define AR_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ar_err {
    AR_OK = 0,
    AR_ENOMEM = -1,
    AR_EINVAL = -2,    /* bad input */
    AR_ENOTFOUND = -3, /* no such object / end of iteration */
    AR_ELIMIT = -4,    /* a configured limit was exceeded */
    AR_EIO = -5,       /* file or socket error */
    AR_EDB = -6,       /* SQLite error */
    AR_EEXIST = -7,    /* already exists */
    AR_ESTATE = -8,    /* operation not allowed in the current state */
};

/* Human-readable name of an ar_err value. */
const char *ar_strerror(int err);

/* One located sentence for a person: config validation, API 400 bodies, template errors. */
struct ar_error {
    char msg[1024];
};

/* Writes a printf-formatted message into err (if err is not NULL). */
void ar_error_set(struct ar_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the existing message: "<prefix>: <old message>". */
void ar_error_prefix(struct ar_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Allocation wrappers: log and abort() on out-of-memory, never return NULL. */
void *ar_malloc(size_t n);
void *ar_calloc(size_t count, size_t size);
void *ar_realloc(void *p, size_t n);
char *ar_strdup(const char *s);
char *ar_strndup(const char *s, size_t n);
/* printf into a freshly allocated string. */
char *ar_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Binary search for key in an array of n elements of size bytes, sorted by strcmp on the
 * string pointer (char *) at name_off in each element: the key's index, or -(insertion
 * point) - 1 when it is absent. */
long ar_bsearch_name(const void *base, size_t n, size_t size, size_t name_off, const char *key);

#define AR_FREE(p)                                                                                 \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

#define AR_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
