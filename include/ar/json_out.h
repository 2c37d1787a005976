/* Fast JSON writing into a bounded buffer, escaping strings exactly as Go's encoding/json
 * does (HTML-safe: <, >, & as \u003c \u003e \u0026; U+2028/2029 escaped), so API output is
 * byte-compatible with Alertmanager's. Used for large API responses and SQLite rows; jansson
 * remains fine where speed does not matter. */
#ifndef AR_JSON_OUT_H
#define AR_JSON_OUT_H

#include "ar/buf.h"
#include "ar/labels.h"

/* Appends s (n bytes of valid UTF-8) as a quoted JSON string. */
int json_put_string(struct buf *b, const char *s, size_t n);
int json_put_cstr(struct buf *b, const char *s);
/* Appends {"name":"value",...} in the set's (sorted) order. */
int json_put_labelset(struct buf *b, const struct labelset *ls);
/* The same from n serialised "name\0value\0" pairs (ar/textpack.h). */
int json_put_pairs(struct buf *b, const char *pairs, uint32_t n);
/* Appends a quoted RFC 3339 millisecond timestamp. */
int json_put_time(struct buf *b, int64_t ns, int16_t offset_min);

#endif
