-- Audit trail of changes made through the API (who, from where, when, what): silence
-- creations, updates and expiries so far. Append-only; never updated or deleted by the
-- router, so an intruder who silences the alert about their intrusion leaves a trace.

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,   -- ns since the Unix epoch
    action    TEXT    NOT NULL,   -- 'silence.create' | 'silence.update' | 'silence.expire'
    object_id TEXT    NOT NULL,   -- e.g. the silence id
    client    TEXT    NOT NULL,   -- client address of the request
    user      TEXT    NOT NULL,   -- authenticated user ('' without basic auth)
    detail    TEXT    NOT NULL    -- JSON object with the change (e.g. createdBy, comment)
);

CREATE INDEX audit_log_by_time ON audit_log (at);
