/* Time zones from the zone database, as Go's time.LoadLocation reads them: one loader for
 * the time intervals (COMPAT 7) and the template `tz` function. A zone is loaded once and
 * then answers "offset and abbreviation at instant t" without touching the process
 * environment, so lookups are thread-safe. */
#ifndef AR_TZ_H
#define AR_TZ_H

#include "ar/common.h"

struct tz_data;

/* Loads zone `name` as Go's time.LoadLocation does: "" and "UTC" are UTC; "Local" is Go's
 * local zone ($TZ unset: /etc/localtime; "": UTC; ":" dropped; an absolute path: that
 * file; another name: from the system zone directories; UTC when nothing loads); any other
 * name is a TZif file under $ZONEINFO, else under the system zone directories
 * (/usr/share/zoneinfo, ...). NULL when the name is unknown or refused (an absolute path or
 * a ".." in it, as Go refuses). */
struct tz_data *tz_load(const char *name);
void tz_free(struct tz_data *tz);

/* UTC offset in seconds east at Unix time t. */
int32_t tz_offset(const struct tz_data *tz, int64_t t);
/* The same, and the zone abbreviation in force ("CEST", "UTC", "-03") into abbr. */
int32_t tz_lookup(const struct tz_data *tz, int64_t t, char *abbr, size_t abbrsz);

#endif
