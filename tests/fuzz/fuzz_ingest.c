/* libFuzzer target for the POST /api/v2/alerts body decoder and validator (ingest.c):
 * any byte string must give either alerts or a well-formed error, never a crash or leak.
 * Built by CMake with -DAR_FUZZ=ON and clang (scripts/fuzz.sh). */
#include "ar/ingest.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ingest_limits lim = {.max_alerts = 1000, .max_labels = 100};
    struct ingest_result r;

    ingest_result_init(&r);
    ingest_parse((const char *)data, size, 1764406800LL * 1000000000LL, 300LL * 1000000000LL, &lim,
                 &r);
    ingest_result_cleanup(&r);
    return 0;
}
