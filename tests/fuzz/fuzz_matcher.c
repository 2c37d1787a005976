/* libFuzzer target for the matcher parser and the RE2-compatible regex translation: any
 * input parses or fails with a message; a parsed matcher list matches a label set safely.
 * Built by CMake with -DAR_FUZZ=ON and clang (scripts/fuzz.sh). */
#include "ar/matcher.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    struct matcher_list l;
    struct ar_error err;
    struct labelset ls;

    memcpy(text, data, size);
    text[size] = '\0';
    matcher_list_init(&l);
    labelset_init(&ls);
    labelset_set(&ls, "alertname", "monitor_service_down");
    labelset_set(&ls, "instance", "cadvisor:8080");
    if (matchers_parse(text, &l, &err) == AR_OK) {
        (void)matchers_match(&l, &ls);
    }
    matcher_list_cleanup(&l);
    labelset_cleanup(&ls);
    free(text);
    return 0;
}
