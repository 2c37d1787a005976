/* Durations as Alertmanager's configuration writes them.
 * Prometheus form (COMPAT 4.7): "1h30m", "1d", "1w", "90s", "500ms", "0"; units y w d h m s ms,
 * largest to smallest, each at most once; no fractions, no sign; "" is an error.
 * Go form (time.ParseDuration): "1m30s", "500ms", "1.5h", "-1s"; units ns us µs ms s m h. */
#ifndef AR_DURATION_H
#define AR_DURATION_H

#include "ar/common.h"

/* Prometheus duration to milliseconds. Errors: `empty duration string`,
 * `not a valid duration string: "1x"`. */
int duration_parse(const char *s, int64_t *out_ms, struct ar_error *err);
/* Go duration to nanoseconds. Error: `time: invalid duration "x"`. */
int go_duration_parse(const char *s, int64_t *out_ns, struct ar_error *err);
/* Prometheus form using the largest exact units: 86400000 -> "1d", 5400000 -> "1h30m",
 * 0 -> "0s". out must hold at least 32 bytes. */
void duration_format(int64_t ms, char *out, size_t cap);
/* Go form (time.Duration.String): 1500000000 -> "1.5s", 0 -> "0s". */
void go_duration_format(int64_t ns, char *out, size_t cap);

#endif
