/* Masking PostgreSQL connection strings and reading the password file (ar/pg_url.h). The
 * two forms follow libpq's own reading: a URL's credentials end at the first '@' before
 * the first '/', its query is key=value pairs joined by '&'; the key/value form is
 * `key = value` pairs separated by spaces, a value either single-quoted (backslash escapes
 * inside) or a run of non-space characters (backslash escapes too). */
#include "ar/pg_url.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* A bounded writer: keeps what fits, always terminated. */
struct out {
    char *p;
    size_t cap;
    size_t n;
};

static void put(struct out *o, const char *s, size_t len)
{
    for (size_t i = 0; i < len && o->n + 1 < o->cap; i++) {
        o->p[o->n++] = s[i];
    }
    if (o->cap > 0) {
        o->p[o->n] = '\0';
    }
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

bool pg_url_is_uri(const char *conninfo)
{
    return strncmp(conninfo, "postgresql://", 13) == 0 || strncmp(conninfo, "postgres://", 11) == 0;
}

static bool key_is_password(const char *k, size_t len)
{
    return len == 8 && strncmp(k, "password", 8) == 0;
}

static void mask_uri(const char *s, struct out *o)
{
    const char *scheme_end = strstr(s, "://") + 3;
    const char *p = scheme_end;
    const char *q;

    put(o, s, (size_t)(scheme_end - s));
    while (*p != '\0' && *p != '@' && *p != '/') {
        p++;
    }
    if (*p == '@') {
        const char *colon = memchr(scheme_end, ':', (size_t)(p - scheme_end));
        if (colon != NULL) {
            put(o, scheme_end, (size_t)(colon + 1 - scheme_end));
            puts_(o, PG_URL_MASK);
            put(o, p, 1);
        } else {
            put(o, scheme_end, (size_t)(p + 1 - scheme_end));
        }
        p++;
    } else {
        p = scheme_end;
    }
    q = strchr(p, '?');
    if (q == NULL) {
        puts_(o, p);
        return;
    }
    put(o, p, (size_t)(q + 1 - p));
    p = q + 1;
    while (*p != '\0') {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq != NULL && key_is_password(p, (size_t)(eq - p))) {
            put(o, p, (size_t)(eq + 1 - p));
            puts_(o, PG_URL_MASK);
        } else {
            put(o, p, (size_t)(end - p));
        }
        if (amp == NULL) {
            break;
        }
        put(o, "&", 1);
        p = amp + 1;
    }
}

/* Forgets what was written since mark; false, for the parser's failure returns. */
static bool cut(struct out *o, size_t mark)
{
    if (mark < o->n) {
        o->n = mark;
        o->p[mark] = '\0';
    }
    return false;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The key/value form. Returns false when the text does not parse, with out cut back to the
 * pairs before the one that failed (which may be a bare secret), after which the caller
 * masks the rest. */
static bool mask_kv(const char *s, struct out *o)
{
    const char *p = s;

    while (*p != '\0') {
        const char *k;
        const char *v;
        size_t klen;
        size_t mark;
        bool secret;

        while (is_space(*p)) {
            put(o, p++, 1);
        }
        if (*p == '\0') {
            break;
        }
        mark = o->n;
        k = p;
        while (*p != '\0' && *p != '=' && !is_space(*p)) {
            p++;
        }
        klen = (size_t)(p - k);
        put(o, k, klen);
        while (is_space(*p)) {
            put(o, p++, 1);
        }
        if (*p != '=') {
            return cut(o, mark);
        }
        put(o, p++, 1);
        while (is_space(*p)) {
            put(o, p++, 1);
        }
        secret = key_is_password(k, klen);
        v = p;
        if (*p == '\'') {
            p++;
            while (*p != '\0' && *p != '\'') {
                if (*p == '\\' && p[1] != '\0') {
                    p++;
                }
                p++;
            }
            if (*p != '\'') {
                return cut(o, mark);
            }
            p++;
        } else {
            while (*p != '\0' && !is_space(*p)) {
                if (*p == '\\' && p[1] != '\0') {
                    p++;
                }
                p++;
            }
        }
        if (secret) {
            puts_(o, *v == '\'' ? "'" PG_URL_MASK "'" : PG_URL_MASK);
        } else {
            put(o, v, (size_t)(p - v));
        }
    }
    return true;
}

void pg_url_mask(const char *conninfo, char *out, size_t cap)
{
    struct out o = {out, cap, 0};

    if (cap == 0) {
        return;
    }
    out[0] = '\0';
    if (pg_url_is_uri(conninfo)) {
        mask_uri(conninfo, &o);
    } else if (!mask_kv(conninfo, &o)) {
        puts_(&o, PG_URL_MASK);
    }
}

int pg_url_read_password_file(const char *path, char *out, size_t cap, struct ar_error *err)
{
    FILE *f = fopen(path, "r");
    size_t len;

    if (f == NULL) {
        ar_error_set(err, "--storage.password-file: cannot open %s: %s", path, strerror(errno));
        return AR_EIO;
    }
    if (fgets(out, (int)cap, f) == NULL) {
        fclose(f);
        ar_error_set(err, "--storage.password-file: %s is empty", path);
        return AR_EINVAL;
    }
    fclose(f);
    len = strlen(out);
    if (len == cap - 1 && out[len - 1] != '\n') {
        memset(out, 0, cap);
        ar_error_set(err, "--storage.password-file: the first line of %s is longer than %zu bytes",
                     path, cap - 2);
        return AR_EINVAL;
    }
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r')) {
        out[--len] = '\0';
    }
    if (len == 0) {
        ar_error_set(err, "--storage.password-file: the first line of %s is empty", path);
        return AR_EINVAL;
    }
    return AR_OK;
}
