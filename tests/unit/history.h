/* Test helper: counts the history events (ar/store_history.h) of one kind whose line
 * contains a given text, read back through the storage module's own reader. */
#ifndef AR_TEST_HISTORY_H
#define AR_TEST_HISTORY_H

#include "ar/store_history.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct history_count {
    char event[48]; /* "event":"firing" */
    const char *needle;
    int n;
};

static bool history_count_line(const char *line, size_t len, void *ctx)
{
    struct history_count *c = ctx;
    char copy[4096];

    snprintf(copy, sizeof(copy), "%.*s", (int)len, line);
    if (strstr(copy, c->event) != NULL && (c->needle == NULL || strstr(copy, c->needle))) {
        c->n++;
    }
    return true;
}

/* Events of kind event ("firing", "resolved", "deleted") in the whole history of dir whose
 * line contains needle (NULL: any); -1 when the history cannot be read. */
static int history_count(const char *dir, const char *event, const char *needle)
{
    struct history_count c;

    snprintf(c.event, sizeof(c.event), "\"event\":\"%s\"", event);
    c.needle = needle;
    c.n = 0;
    if (store_history_read(dir, INT64_MIN, INT64_MAX, history_count_line, &c) != AR_OK) {
        return -1;
    }
    return c.n;
}

#endif
