/* Go-compatible JSON string escaping and small writers (ar/json_out.h). The common case
 * (no byte needing escape) copies runs with one memcpy. */
#include "ar/json_out.h"

#include "ar/timefmt.h"

#include <string.h>

static const char hexdig[] = "0123456789abcdef";

/* 1 for bytes that may need escaping: control bytes, " \\ < > &, and 0xe2 (which may start
 * U+2028/U+2029; other sequences starting with it are copied as they are). */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Appends s (n bytes) escaped, without quotes. */
static int put_escaped(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0;
    int rc;

    /* Worst case every byte becomes \u00XX (6 bytes), plus the closing quote; reserve once. */
    rc = buf_reserve(b, n * 6 + 2);
    if (rc != AR_OK) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        /* clean bytes four at a time (the usual case): half the instructions per byte of
         * the loop below, which long annotation values made a sixth of the writer's work */
        while (i + 4 <= n && (needs_escape[p[i]] | needs_escape[p[i + 1]] | needs_escape[p[i + 2]] |
                              needs_escape[p[i + 3]]) == 0) {
            i += 4;
        }
        if (i >= n) {
            break;
        }
        unsigned char c = p[i];
        if (!needs_escape[c]) {
            continue;
        }
        if (c == 0xe2) {
            if (i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
                memcpy(b->data + b->len, s + run, i - run);
                b->len += i - run;
                memcpy(b->data + b->len, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
                b->len += 6;
                i += 2;
                run = i + 1;
            }
            continue;
        }
        memcpy(b->data + b->len, s + run, i - run);
        b->len += i - run;
        run = i + 1;
        char *o = b->data + b->len;
        switch (c) {
        case '"':
            o[0] = '\\';
            o[1] = '"';
            b->len += 2;
            break;
        case '\\':
            o[0] = '\\';
            o[1] = '\\';
            b->len += 2;
            break;
        case '\n':
            o[0] = '\\';
            o[1] = 'n';
            b->len += 2;
            break;
        case '\r':
            o[0] = '\\';
            o[1] = 'r';
            b->len += 2;
            break;
        case '\t':
            o[0] = '\\';
            o[1] = 't';
            b->len += 2;
            break;
        default:
            o[0] = '\\';
            o[1] = 'u';
            o[2] = '0';
            o[3] = '0';
            o[4] = hexdig[c >> 4];
            o[5] = hexdig[c & 0xf];
            b->len += 6;
            break;
        }
    }
    memcpy(b->data + b->len, s + run, n - run);
    b->len += n - run;
    b->data[b->len] = '\0';
    return AR_OK;
}

int json_put_string(struct buf *b, const char *s, size_t n)
{
    int rc = buf_putc(b, '"');

    if (rc == AR_OK) {
        rc = put_escaped(b, s, n);
    }
    return rc == AR_OK ? buf_putc(b, '"') : rc;
}

/* One pass for the common case: the clean prefix is found while looking for the NUL, so a
 * short label string costs no separate strlen. */
int json_put_cstr(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    int rc;

    while (!needs_escape[p[n]]) {
        n++;
    }
    rc = buf_reserve(b, n + 2);
    if (rc != AR_OK) {
        return rc;
    }
    b->data[b->len] = '"';
    memcpy(b->data + b->len + 1, s, n);
    b->len += n + 1;
    if (p[n] != '\0') {
        rc = put_escaped(b, s + n, strlen(s + n));
        if (rc != AR_OK) {
            return rc;
        }
    }
    return buf_putc(b, '"');
}

int json_put_labelset(struct buf *b, const struct labelset *ls)
{
    int rc = buf_putc(b, '{');

    for (size_t i = 0; i < ls->n && rc == AR_OK; i++) {
        if (i > 0) {
            rc = buf_putc(b, ',');
        }
        if (rc == AR_OK) {
            rc = json_put_cstr(b, ls->v[i].name);
        }
        if (rc == AR_OK) {
            rc = buf_putc(b, ':');
        }
        if (rc == AR_OK) {
            rc = json_put_cstr(b, ls->v[i].value);
        }
    }
    return rc == AR_OK ? buf_putc(b, '}') : rc;
}

int json_put_pairs(struct buf *b, const char *pairs, uint32_t n)
{
    int rc = buf_putc(b, '{');

    for (uint32_t i = 0; i < n && rc == AR_OK; i++) {
        size_t nl = strlen(pairs);
        size_t vl = strlen(pairs + nl + 1);

        if (i > 0) {
            rc = buf_putc(b, ',');
        }
        if (rc == AR_OK) {
            rc = json_put_string(b, pairs, nl);
        }
        if (rc == AR_OK) {
            rc = buf_putc(b, ':');
        }
        if (rc == AR_OK) {
            rc = json_put_string(b, pairs + nl + 1, vl);
        }
        pairs += nl + 1 + vl + 1;
    }
    return rc == AR_OK ? buf_putc(b, '}') : rc;
}

int json_put_time(struct buf *b, int64_t ns, int16_t offset_min)
{
    char tmp[40];
    size_t n;

    tmp[0] = '"';
    n = time_format_rfc3339_ms(ns, offset_min, tmp + 1);
    tmp[n + 1] = '"';
    return buf_append(b, tmp, n + 2);
}
