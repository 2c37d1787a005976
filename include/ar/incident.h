/* Incidents: the model of one aggregation group's episode, owned by the core thread.
 *
 * An incident opens at the first flush of a group (of a receiver with integrations: a
 * blackhole route pages nobody) that holds a firing alert and no open incident, and
 * resolves at the successful flush whose snapshot holds only resolved alerts; a firing
 * alert after that opens a new one. The set keeps the incidents not yet resolved, keyed by
 * (receiver, group key), with the alerts that joined each; the pipeline (dispatch.c) tells
 * it about flushes, muted alerts and notifications, and the API (through core_call)
 * acknowledges incidents and adds notes. Every change is queued in the turn's transaction
 * (txn_write, SQL in store_incidents.c), so what an API reply reports is committed and
 * survives kill -9; incident_set_load rebuilds the set at start.
 *
 * An acknowledged incident stops repeat notifications of its group (the pipeline asks
 * incident_acknowledged): a new alert joining the group clears the acknowledgement, and the
 * resolution ends the incident, so both notify as usual. */
#ifndef AR_INCIDENT_H
#define AR_INCIDENT_H
#include "ar/alert.h"

struct store;
struct txn;
struct incident_set;

struct incident_set *incident_set_new(void);
void incident_set_free(struct incident_set *s); /* accepts NULL */
/* Loads the incidents not resolved and the next ids (at start, before the writer runs). */
int incident_set_load(struct incident_set *s, struct store *st);
size_t incident_set_count(const struct incident_set *s); /* not resolved */

/* ---- pipeline hooks (dispatch.c, core thread) ---- */

/* A flush of the group (receiver, group_key) snapshotted alerts snap[0..n): opens an
 * incident when one fires and none is open, records alerts joining and resolving, and
 * clears an acknowledgement when a new alert joined. Returns the incident's id, or 0 when
 * the group has none (nothing fires and none is open). */
int64_t incident_flush_begin(struct incident_set *s, const char *receiver, const char *group_key,
                             const struct labelset *group_labels, struct alert *const *snap,
                             size_t n, int64_t now_ns, struct txn *txn);
/* Alert a of incident id was muted at this flush: how is "silenced" or "inhibited", by the
 * silence id or the inhibiting alert's fingerprint. Recorded once per alert and kind. */
void incident_muted(struct incident_set *s, int64_t id, const char *receiver, const char *group_key,
                    const struct alert *a, const char *how, const char *by, struct txn *txn);
/* True when incident id (of that group) is acknowledged: repeats are held back. */
bool incident_acknowledged(const struct incident_set *s, int64_t id, const char *receiver,
                           const char *group_key);
/* A notification of incident id, decided at sent_at (the flush) with nfiring/nresolved
 * alerts, completed: its outcome ("delivered", "failed", "dead", "canceled"), one timeline
 * entry linking its outbox row (delivery_id, 0 when there is no outbox). */
void incident_notify_outcome(struct txn *txn, int64_t id, int64_t delivery_id, const char *receiver,
                             const char *integration, int64_t sent_at, size_t nfiring,
                             size_t nresolved, const char *outcome, int attempts,
                             const char *error);
/* The acknowledgement message (incidents.ack_message) to receiver/integration was sent or
 * not: one timeline entry "ack_message" with its outcome ("delivered" or "failed"). */
void incident_ack_message_outcome(struct txn *txn, int64_t id, const char *receiver,
                                  const char *integration, const char *outcome, int attempts,
                                  const char *error);
/* The flush of incident id completed; ok: every send succeeded; all_resolved: its snapshot
 * held only resolved alerts. Resolves the incident when both hold. */
void incident_flush_end(struct incident_set *s, int64_t id, const char *receiver,
                        const char *group_key, bool ok, bool all_resolved, int64_t now_ns,
                        struct txn *txn);

/* Resolves every incident whose group no longer exists (exists(ctx, receiver, group_key) is
 * false: a reload moved its alerts to other groups, or they were deleted), recording why.
 * Run by the maintenance pass. Returns how many were closed. */
size_t incident_set_close_orphans(struct incident_set *s,
                                  bool (*exists)(void *ctx, const char *receiver,
                                                 const char *group_key),
                                  void *ctx, struct txn *txn);

/* ---- API operations (inside a core_fn) ---- */

/* Acknowledges incident id. AR_OK: acknowledged now; AR_EEXIST: already acknowledged (by
 * *prev_by, a new heap string), the attempt is still recorded in the timeline and the audit
 * trail; AR_ENOTFOUND: not open (resolved or unknown: the caller tells which). */
int incident_ack(struct incident_set *s, int64_t id, const char *by, const char *comment,
                 const char *client, const char *user, struct txn *txn, char **prev_by);
/* Appends a note (section checked by the caller) to incident id, resolved or not; replaces
 * is the note it edits (0: none). Returns the new note's id. */
int64_t incident_note_add(struct incident_set *s, int64_t id, const char *section,
                          const char *author, const char *text, int64_t replaces,
                          const char *client, const char *user, struct txn *txn);

/* ---- other instances (src/ha_records.c, inside a core_fn) ---- */

/* The name of a group's episode that is the same on every instance sharing a PostgreSQL
 * store (each opens its own incident, with its own id): receiver, group key and the
 * earliest startsAt of the firing alerts that opened it (Prometheus sends the same startsAt
 * to every instance), separated by 0x1f. A new heap string. */
char *incident_cluster_key(const char *receiver, const char *group_key, int64_t episode);
/* An acknowledgement made at `at` on instance origin (not self, this instance's peer name)
 * of the episode cluster_key: applied to the open incident of that key. When the incident
 * is already acknowledged the earliest acknowledgement wins (ties: the smaller peer name),
 * on every instance alike; either way the timeline records it, marked with its origin.
 * AR_OK: in force now; AR_EEXIST: an earlier one stays; AR_ENOTFOUND: no open incident. */
int incident_ack_remote(struct incident_set *s, const char *cluster_key, const char *origin,
                        const char *self, int64_t at, const char *by, const char *comment,
                        struct txn *txn);
/* A note written on instance origin (its id there: origin_seq) appended to incident id
 * (resolved or not), replacing the local note `replaces` (0: none). Returns its local id. */
int64_t incident_note_add_remote(struct incident_set *s, int64_t id, const char *section,
                                 const char *author, const char *text, int64_t replaces,
                                 const char *origin, int64_t origin_seq, int64_t at,
                                 struct txn *txn);

/* The report's note sections, in report order: keys ("identification", ...) and titles
 * ("Identification", ...), NULL-terminated. */
extern const char *const incident_section_keys[];
extern const char *const incident_section_titles[];
bool incident_section_valid(const char *section);

#endif
