/* libFuzzer target for the configuration loader (YAML tree, key tables, validation,
 * re-serialisation): any text must load or be rejected with a message, never crash or leak.
 * Built by CMake with -DAR_FUZZ=ON and clang (scripts/fuzz.sh). */
#include "ar/config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct config *cfg = NULL;
    struct ar_error err;

    memcpy(text, data, size);
    text[size] = '\0';
    if (config_load_string(text, "fuzz.yml", &cfg, &err) == AR_OK) {
        config_unref(cfg);
    }
    free(text);
    return 0;
}
