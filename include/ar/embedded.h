/* Files compiled into the binary by scripts/embed.cmake: the SQL migrations (SQLite's and
 * PostgreSQL's), the default templates and the web UI's static files (web/, served by
 * web_ui.c). Each table ends with an entry whose name is NULL. */
#ifndef AR_EMBEDDED_H
#define AR_EMBEDDED_H

#include <stddef.h>

struct ar_embedded_file {
    const char *name; /* file name without directory, e.g. "0001_alerts.sql" */
    const char *data; /* NUL-terminated contents */
    size_t len;       /* bytes, without the terminating NUL */
};

extern const struct ar_embedded_file ar_migrations[];    /* sorted by name */
extern const struct ar_embedded_file ar_pg_migrations[]; /* migrations/pg/, sorted */
extern const struct ar_embedded_file ar_templates[];     /* sorted by name */
extern const struct ar_embedded_file ar_web_files[];     /* sorted by name */

#endif
