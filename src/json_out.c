/* Go-compatible JSON string escaping and small writers (ar/json_out.h). The common case
 * (no byte needing escape) copies runs with one memcpy. */
#include "ar/json_out.h"

#include "ar/timefmt.h"

#include <string.h>

static const char hexdig[] = "0123456789abcdef";

/* 1 for bytes that need escaping. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x80..0xff: only 0xe2 may start U+2028/U+2029 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

int json_put_string(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0;
    int rc;

    /* Worst case every byte becomes \u00XX (6 bytes); reserve once. */
    rc = buf_reserve(b, n * 6 + 2);
    if (rc != AR_OK) {
        return rc;
    }
    b->data[b->len++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i];
        if (c == 0xe2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
            memcpy(b->data + b->len, s + run, i - run);
            b->len += i - run;
            memcpy(b->data + b->len, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            b->len += 6;
            i += 2;
            run = i + 1;
            continue;
        }
        if (!needs_escape[c] || c >= 0x80) {
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
    b->data[b->len++] = '"';
    b->data[b->len] = '\0';
    return AR_OK;
}

int json_put_cstr(struct buf *b, const char *s)
{
    return json_put_string(b, s, strlen(s));
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

int json_put_time(struct buf *b, int64_t ns, int16_t offset_min)
{
    char tmp[40];
    size_t n;

    tmp[0] = '"';
    n = time_format_rfc3339_ms(ns, offset_min, tmp + 1);
    tmp[n + 1] = '"';
    return buf_append(b, tmp, n + 2);
}
