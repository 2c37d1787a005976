/* Decoding and validating a POST /api/v2/alerts body (COMPAT 1.3) on the HTTP thread,
 * before anything reaches the core: a streaming yajl parse straight into alert objects,
 * then Alertmanager's defaulting (startsAt, endsAt from resolve_timeout, updatedAt) and
 * per-alert validation. Shape errors reject the whole request; validation errors reject
 * only the alerts concerned (the valid ones are still stored, as upstream does). */
#ifndef AR_INGEST_H
#define AR_INGEST_H

#include "ar/alert.h"
#include "ar/buf.h"

struct ingest_limits {
    size_t max_alerts;            /* alerts per request; 0 = unlimited */
    size_t max_labels;            /* labels per alert; 0 = unlimited */
    size_t max_label_value_bytes; /* per name and per value; 0 = unlimited */
    /* not a limit: where valid alerts move their repeated strings (ar/strpool.h), or NULL */
    struct strpool *strings;
    /* not a limit: what compresses valid alerts' annotations (ar/textpack.h), or NULL */
    struct textpack *texts;
};

struct ingest_result {
    struct alert **alerts; /* valid alerts, each owned (refs = 1) */
    size_t nalerts;
    size_t cap;
    size_t ninvalid; /* alerts rejected by validation */
    size_t nfiring;  /* counted as firing at receipt (endsAt after now) */
    size_t nresolved;
    struct buf errors;     /* validation messages joined with "; " (0.25) */
    int shape_status;      /* 0, or 400/422/413 when the body as a whole is rejected */
    struct buf shape_body; /* JSON {code,message} body for shape_status */
};

void ingest_result_init(struct ingest_result *r);
void ingest_result_cleanup(struct ingest_result *r); /* unrefs remaining alerts */

/* Parses and validates body. now_ns is read once per request. Always returns AR_OK;
 * the outcome is in r (shape_status, errors, alerts). */
int ingest_parse(const char *body, size_t len, int64_t now_ns, int64_t resolve_timeout_ns,
                 const struct ingest_limits *limits, struct ingest_result *r);

/* Go's strfmt "uri" check (url.ParseRequestURI): absolute URI or absolute path. */
bool ingest_uri_is_valid(const char *s);

#endif
