/* libFuzzer target for the template engine: parses the input as a template (after loading the
 * built-in templates, so it can call them) and executes it in text and HTML mode against a
 * small alert group. Limits are lowered so every input finishes quickly.
 *
 * Build (from the repository root; embedded.c comes from any CMake build directory):
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_POSIX_C_SOURCE=200809L \
 *     -D_DEFAULT_SOURCE -Iinclude tests/fuzz/fuzz_tmpl.c src/tmpl_*.c src/util/[a-z]*.c \
 *     build-tmpl/embedded.c -lpcre2-8 -ljansson -lm -lpthread -o fuzz_tmpl
 *   ./fuzz_tmpl -max_total_time=60 -max_len=4096 [corpus_dir]
 * (clang's libFuzzer runtime: apt-get install -y clang libclang-rt-14-dev) */
#include "ar/tmpl.h"

#include <stdlib.h>
#include <string.h>

static struct tmpl_set *base;
static struct tmpl_value *data;

static void setup(void)
{
    struct ar_error err;
    struct tmpl_value *a;

    base = tmpl_set_new();
    tmpl_set_limits(base, 1u << 16, 50, 20000);
    if (tmpl_set_load_defaults(base, &err) != AR_OK) {
        abort();
    }
    data = tmpl_data_new("team.x", true, "http://am:9093");
    a = tmpl_alert_new("firing", 1795771311, 5, TMPL_ZERO_TIME_SEC, 0, "http://p/g?x=<y>", "f");
    tmpl_kv_set(tmpl_alert_labels(a), "alertname", "A<b>");
    tmpl_kv_set(tmpl_alert_labels(a), "severity", "critical");
    tmpl_kv_set(tmpl_alert_annotations(a), "summary", "s & \"q\"");
    tmpl_data_add_alert_take(data, a);
    a = tmpl_alert_new("resolved", 1795771311, 0, 1795771411, 0, "", "g");
    tmpl_kv_set(tmpl_alert_labels(a), "alertname", "A<b>");
    tmpl_data_add_alert_take(data, a);
    tmpl_kv_set(tmpl_data_group_labels(data), "alertname", "A<b>");
    tmpl_data_finish(data, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    char *text;
    char *out = NULL;
    struct ar_error err;
    int mode;

    if (base == NULL) {
        setup();
    }
    text = malloc(len + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, buf, len);
    text[len] = '\0';
    for (mode = 0; mode < 2; mode++) {
        if (tmpl_render(base, text, mode ? TMPL_HTML : TMPL_TEXT, data, &out, &err) == AR_OK) {
            free(out);
            out = NULL;
        }
    }
    /* also as a template file added to a set, executed by every defined name */
    {
        struct tmpl_set *set = tmpl_set_new();

        tmpl_set_limits(set, 1u << 16, 50, 20000);
        if (tmpl_set_parse(set, "fuzz.tmpl", text, len, &err) == AR_OK) {
            size_t n = 0;
            size_t i;
            const char **names = tmpl_set_names(set, &n);

            for (i = 0; i < n && i < 8; i++) {
                struct buf b;

                buf_init(&b, 0);
                tmpl_set_execute(set, names[i], TMPL_TEXT, data, &b, &err);
                buf_cleanup(&b);
            }
            free(names);
        }
        tmpl_set_free(set);
    }
    free(text);
    return 0;
}
