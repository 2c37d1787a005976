/* A growable byte buffer with a hard maximum size. Appends past the maximum fail with
 * AR_ELIMIT and leave the buffer unchanged; the contents are always NUL-terminated. */
#ifndef AR_BUF_H
#define AR_BUF_H

#include "ar/common.h"

struct buf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* maximum len; 0 means SIZE_MAX */
};

void buf_init(struct buf *b, size_t max);
void buf_cleanup(struct buf *b);
void buf_reset(struct buf *b); /* len = 0, keeps the allocation */
int buf_reserve(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s double-quoted as Go's strconv.Quote / %q prints it: \" \\ \n \t \r \a \b \f
 * \v and \xNN for other control bytes; printable UTF-8 kept (group keys, messages). */
void buf_go_quote(struct buf *b, const char *s);
/* Returns the contents as a heap string owned by the caller and empties b. */
char *buf_take(struct buf *b);
/* Contents as a C string ("" when empty); borrowed. */
const char *buf_str(const struct buf *b);

#endif
