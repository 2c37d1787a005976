/* The SQL of incidents (migrations/0012_incidents.sql): the incident rows, their timeline
 * events and notes, written by the writer thread inside the turn's transaction (through the
 * model in ar/incident.h), loaded at start, and read back on read-only connections of their
 * own for the /api/x/incidents endpoints and reports. Rows are plain fields: this storage
 * module includes nothing from the model above it. */
#ifndef AR_STORE_INCIDENTS_H
#define AR_STORE_INCIDENTS_H
#include "ar/common.h"

struct store;
struct sqlite3;

/* One incidents row; strings are heap copies, times ns since the epoch (0 = unset). */
struct incident_row {
    int64_t id;
    char *receiver;
    char *group_key;
    char *group_labels; /* JSON object */
    char *severity;
    char *state; /* "open", "acknowledged", "resolved" */
    int64_t opened_at;
    int64_t acked_at;
    char *acked_by;
    char *ack_comment;
    int64_t resolved_at;
    /* read back only: JSON array of {"fingerprint","resolved","labels","annotations"} from
     * incident_alerts (written with store_incident_alert_put) */
    char *alerts;
    /* the group's episode named the same on every instance (migrations/0014; "" for
     * incidents opened before it) */
    char *cluster_key;
};
void incident_row_free(struct incident_row *r); /* accepts NULL */

struct incident_note_row {
    int64_t id;
    int64_t incident_id;
    int64_t at;
    char *section;
    char *author;
    char *text;
    int64_t replaces;   /* 0: a first version */
    char *origin;       /* NULL or "": written here; else the peer name it came from */
    int64_t origin_seq; /* its id at origin */
};
void incident_note_row_free(struct incident_note_row *n); /* accepts NULL */

/* ---- writer thread (inside a transaction) ---- */
int store_incident_put(struct store *st, const struct incident_row *r); /* insert or replace */
/* An alert of the incident (insert or replace); labels and annotations are JSON objects. */
int store_incident_alert_put(struct store *st, int64_t incident_id, const char *fingerprint,
                             bool resolved, const char *labels, const char *annotations);
int store_incident_event(struct store *st, int64_t incident_id, int64_t at, const char *kind,
                         const char *detail_json);
/* The same for an event received from another instance (origin: its peer name; "": local). */
int store_incident_event_from(struct store *st, int64_t incident_id, int64_t at, const char *kind,
                              const char *detail_json, const char *origin);
int store_incident_note(struct store *st, const struct incident_note_row *n);

/* ---- start (main thread, before the writer runs) ---- */
/* Every incident not resolved, oldest first (*out: a new array of new rows). */
int store_incidents_load_open(struct store *st, struct incident_row ***out, size_t *n);
/* First unused incident id and note id. */
int store_incidents_next_ids(struct store *st, int64_t *next_incident, int64_t *next_note);

/* ---- read-only queries (any thread, own connection) ---- */
/* Opens <dir>/alertrouter.db read-only; NULL on error (logged). Close with sqlite3_close. */
struct sqlite3 *store_incidents_open_ro(const char *dir);
/* The row of id: AR_OK, AR_ENOTFOUND or AR_EDB. */
int store_incident_get(struct sqlite3 *db, int64_t id, struct incident_row **out);
/* Calls fn for each incident, newest first (opened_at, then id), with state == state (NULL:
 * any) and overlapping [from_ns, to_ns] (0: open-ended); fn returns false to stop. The row
 * is borrowed for the call. AR_OK or AR_EDB. */
int store_incidents_each(struct sqlite3 *db, const char *state, int64_t from_ns, int64_t to_ns,
                         bool (*fn)(void *ctx, const struct incident_row *r), void *ctx);
/* Calls fn for each timeline event of the incident in order. AR_OK or AR_EDB. */
int store_incident_events_each(struct sqlite3 *db, int64_t incident_id,
                               void (*fn)(void *ctx, int64_t seq, int64_t at, const char *kind,
                                          const char *detail_json),
                               void *ctx);
/* Calls fn for each note of the incident in id order (borrowed). AR_OK or AR_EDB. */
int store_incident_notes_each(struct sqlite3 *db, int64_t incident_id,
                              void (*fn)(void *ctx, const struct incident_note_row *n), void *ctx);
/* The incident a note belongs to: AR_OK, AR_ENOTFOUND or AR_EDB. */
int store_incident_note_owner(struct sqlite3 *db, int64_t note_id, int64_t *incident_id);

#endif
