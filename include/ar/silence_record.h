/* One silence as it is kept and stored: the record silence.c owns and store_silences.c
 * reads and writes. A header of its own so that the storage layer needs nothing of the
 * silence set above it. */
#ifndef AR_SILENCE_RECORD_H
#define AR_SILENCE_RECORD_H

#include "ar/common.h"
#include "ar/matcher.h"

struct silence {
    char id[37];                  /* UUID v4, lowercase */
    struct matcher_list matchers; /* in the order given */
    int64_t starts_at;            /* ns since epoch */
    int64_t ends_at;
    int64_t updated_at;
    int16_t starts_off_min; /* UTC offset the client wrote (kept in API output) */
    int16_t ends_off_min;
    char *created_by;
    char *comment;
};

#endif
