/* PostgreSQL array literals (ar/pg_array.h). */
#include "ar/pg_array.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

void pg_array_begin(struct buf *b)
{
    buf_init(b, 0);
    buf_putc(b, '{');
}

/* A comma before every element but the first ("{" alone is the empty array). */
static void next(struct buf *b)
{
    if (b->len > 1) {
        buf_putc(b, ',');
    }
}

void pg_array_text(struct buf *b, const char *s, size_t len)
{
    next(b);
    buf_reserve(b, len + 2);
    buf_putc(b, '"');
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\') {
            buf_putc(b, '\\');
        }
        buf_putc(b, s[i]);
    }
    buf_putc(b, '"');
}

void pg_array_str(struct buf *b, const char *s)
{
    pg_array_text(b, s, strlen(s));
}

void pg_array_int(struct buf *b, int64_t v)
{
    char num[24];

    snprintf(num, sizeof(num), "%" PRId64, v);
    pg_array_str(b, num);
}

void pg_array_bytea(struct buf *b, const unsigned char *v, size_t len)
{
    static const char hex[] = "0123456789abcdef";

    next(b);
    buf_reserve(b, 2 * len + 6);
    buf_puts(b, "\"\\\\x"); /* the element's text is \x..., its backslash escaped */
    for (size_t i = 0; i < len; i++) {
        buf_putc(b, hex[v[i] >> 4]);
        buf_putc(b, hex[v[i] & 15]);
    }
    buf_putc(b, '"');
}

void pg_array_end(struct buf *b)
{
    buf_putc(b, '}');
}
