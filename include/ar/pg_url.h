/* The PostgreSQL connection string of --storage.url as it may be shown (docs/ha.md section
 * 7): its password masked in either libpq form (URL or key=value), and the password read
 * from --storage.password-file. No libpq here: pure text, unit-tested. */
#ifndef AR_PG_URL_H
#define AR_PG_URL_H

#include "ar/common.h"

#include <stddef.h>

/* The text every message and status output shows for the password. */
#define PG_URL_MASK "xxxxx"

/* True for a libpq URL (postgresql:// or postgres://), false for the key=value form. */
bool pg_url_is_uri(const char *conninfo);

/* Writes conninfo into out (cap bytes, always NUL-terminated) with every password replaced
 * by PG_URL_MASK: the URL's user:password@ and ?password=, or the key/value form's
 * password=... (quoted or not). Text after an unparsable quote is masked whole. */
void pg_url_mask(const char *conninfo, char *out, size_t cap);

/* The first line of path, its line end stripped, into out. Errors name the file, never its
 * contents: missing, unreadable, empty, or a line longer than cap - 1. */
int pg_url_read_password_file(const char *path, char *out, size_t cap, struct ar_error *err);

#endif
