/* Test helper: reads the history (ar/store_history.h) back through the storage module's
 * own reader, oldest first, and counts the events of one kind whose line contains a given
 * text. */
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

/* The event lines of the blocks of dir overlapping [from_ns, to_ns], oldest first, as the
 * API reads them (store_history_scan). */
static int history_read(const char *dir, int64_t from_ns, int64_t to_ns, store_history_scan_fn fn,
                        void *ctx)
{
    struct store_history_query q = {.from_ns = from_ns, .to_ns = to_ns};

    return store_history_scan(dir, &q, fn, ctx);
}

static bool history_count_line(const char *line, size_t len, const struct store_history_pos *pos,
                               bool plain, void *ctx)
{
    struct history_count *c = ctx;
    char copy[4096];

    (void)pos;
    (void)plain;

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
    if (history_read(dir, INT64_MIN, INT64_MAX, history_count_line, &c) != AR_OK) {
        return -1;
    }
    return c.n;
}

#endif
