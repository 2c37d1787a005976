/* PostgreSQL array literals ('{"a","b"}') built in a struct buf, for statements that take a
 * batch as one array per column and spread it with unnest (claims, the notification log,
 * the records publisher). Every element is double-quoted, so any type reads its text form
 * from it. Pure. */
#ifndef AR_PG_ARRAY_H
#define AR_PG_ARRAY_H

#include "ar/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Starts an empty array in b (initialized here). */
void pg_array_begin(struct buf *b);
/* Appends len bytes of text, " and \ escaped. */
void pg_array_text(struct buf *b, const char *s, size_t len);
void pg_array_str(struct buf *b, const char *s);
void pg_array_int(struct buf *b, int64_t v);
/* Appends bytes in bytea's hex form ("\x0a1b"). */
void pg_array_bytea(struct buf *b, const unsigned char *v, size_t len);
/* Closes the array: buf_str(b) is the literal. */
void pg_array_end(struct buf *b);

#endif
