/* RFC 3339 timestamps as the API reads and writes them (COMPAT 1.1). Times are int64
 * nanoseconds since the Unix epoch (saturating outside 1678..2262) plus the UTC offset in
 * minutes that a client supplied, so "+02:00" round-trips. */
#ifndef AR_TIMEFMT_H
#define AR_TIMEFMT_H

#include "ar/common.h"

#define AR_TIME_UNSET INT64_MIN /* Go's zero time: "not set" */

/* Parses RFC 3339 with optional fraction and Z / +hh:mm / +hhmm offset.
 * 0001-01-01T00:00:00Z gives AR_TIME_UNSET. Returns AR_OK or AR_EINVAL. */
int time_parse_rfc3339(const char *s, size_t n, int64_t *out_ns, int16_t *out_offset_min);
/* Writes e.g. 2026-11-27T09:21:50.201Z (offset 0) or ...201+02:00; millisecond precision,
 * truncated as Go does. out needs 32 bytes; returns the length. */
size_t time_format_rfc3339_ms(int64_t ns, int16_t offset_min, char *out);

/* Go's RFC3339Nano as notifier payloads write it: fraction trimmed of trailing zeros
 * (2026-11-27T09:21:50.20146Z, or no fraction at all); AR_TIME_UNSET prints Go's zero time
 * 0001-01-01T00:00:00Z. out needs 40 bytes; returns the length. */
size_t time_format_rfc3339_nano(int64_t ns, int16_t offset_min, char *out);

#endif
