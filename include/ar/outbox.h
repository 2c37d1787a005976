/* Durable outbox, delivery log and dead letters (migrations/0005_deliveries.sql).
 *
 * Every notification the pipeline decides to send gets a `deliveries` row ('pending') in the
 * same group-commit transaction as the rest of that core turn; its completion turns it into
 * 'delivered' or 'dead' (the notifier retried until the deadline, or the failure was final),
 * with one delivery_log row per event. Pending rows are re-submitted at start, dead ones may
 * be replayed through the API (/api/x/deliveries, api_deliveries.c) and `alertrouter
 * deliveries` (cli_deliveries.c).
 *
 * The payload is JSON: the alerts (labels, annotations, times, generatorURL, fingerprint,
 * resolved flag), group labels, external URL, flush time and the firing/resolved
 * fingerprint sets for the notification log. Integration URLs are never stored: a resend
 * uses the current configuration's integration of the same name; errors come redacted. */
#ifndef AR_OUTBOX_H
#define AR_OUTBOX_H

#include "ar/buf.h"
#include "ar/labels.h"
#include "ar/notify.h"
#include "ar/store_outbox.h" /* rows, summaries and their SQL */

struct txn;

/* ---- payload ---- */

/* JSON of the payload (new heap string of exactly its length). scratch, when not NULL, is a
 * buffer the caller keeps between calls: the JSON is built there and copied out once, so a
 * fan-out does not grow (realloc) a fresh buffer for every notification. */
char *outbox_payload_encode(struct buf *scratch, const struct notify_data *nd,
                            const uint64_t *firing, size_t nfiring, const uint64_t *resolved,
                            size_t nresolved, int64_t expiry_ns);

struct outbox_payload {
    struct labelset group_labels;
    struct alert **alerts; /* references */
    bool *resolved;
    size_t nalerts;
    char *external_url;
    int64_t now_ns;
    uint64_t *firing;
    size_t nfiring;
    uint64_t *resolved_fps;
    size_t nresolved_fps;
    int64_t expiry_ns; /* nflog entry lifetime */
};
/* AR_OK or AR_EINVAL (err filled). */
int outbox_payload_decode(const char *json, struct outbox_payload *out, struct ar_error *err);
void outbox_payload_cleanup(struct outbox_payload *p);

/* ---- writes, queued with txn_write (core thread) ---- */

/* Inserts a 'pending' delivery; takes payload (heap string), copies the summary. The
 * payload is deleted when the delivery is delivered; a dead one keeps it for a replay until
 * a later delivery for the same receiver, integration and group is recorded. */
void outbox_record_pending(struct txn *txn, int64_t id, const char *receiver,
                           const char *integration, const char *group_key, char *payload,
                           const struct delivery_summary *sum);
/* Appends a delivery_log event (outcome) and, when state is not NULL, sets the state and
 * the attempt summary (from res, which may be NULL for events without an attempt). */
void outbox_record_event(struct txn *txn, int64_t id, const char *state, const char *outcome,
                         const struct notify_result *res);

/* Maintenance: deletes finished rows (and their log) last updated before before_ns (the
 * --history.retention horizon): delivered ones, and dead letters superseded by a later
 * notification (their payload is gone). Pending rows and replayable dead letters stay. */
void outbox_gc(struct txn *txn, int64_t before_ns);

/* ---- states and ids (API and CLI) ---- */

/* "pending", "delivered" or "dead". */
bool outbox_state_valid(const char *s);
/* A delivery id: n decimal digits (at most 18), greater than 0. */
bool outbox_id_parse(const char *s, size_t n, int64_t *out);

#endif
