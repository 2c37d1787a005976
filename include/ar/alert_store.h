/* The in-memory working set of alerts, keyed by fingerprint: an open-addressing hash table
 * (linear probing, backward-shift deletion) holding one reference per alert. Owned by the
 * core thread; O(1) expected find/put/remove, O(capacity) iteration. */
#ifndef AR_ALERT_STORE_H
#define AR_ALERT_STORE_H

#include "ar/alert.h"

struct alert_store;

struct alert_store *alert_store_new(void);
/* Same with room for about `expected` alerts before growing (small for group members). */
struct alert_store *alert_store_new_sized(size_t expected);
void alert_store_free(struct alert_store *s); /* drops every reference; accepts NULL */
size_t alert_store_count(const struct alert_store *s);
/* Borrowed pointer or NULL. */
struct alert *alert_store_find(const struct alert_store *s, uint64_t fp);
/* Stores a (taking the caller's reference), replacing and unreffing any alert with the
 * same fingerprint. */
void alert_store_put_take(struct alert_store *s, struct alert *a);
/* Removes and unrefs the alert; false when absent. */
bool alert_store_remove(struct alert_store *s, uint64_t fp);

/* Iteration: for (size_t it = 0; (a = alert_store_next(s, &it)) != NULL;) ...
 * The table must not change during the walk. */
struct alert *alert_store_next(const struct alert_store *s, size_t *it);

#endif
