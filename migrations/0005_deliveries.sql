-- Durable outbox: one row per notification the pipeline decided to send (one integration of
-- one group flush), written in the group-commit transaction of the core turn that submitted
-- it. `state` is the current summary ('pending' | 'delivered' | 'dead'); every change is an
-- append-only event in delivery_log. The payload holds everything needed to send again
-- without the in-memory alerts; integration URLs and secrets are never stored (the current
-- configuration's receiver/integration of that name is used), errors come redacted.

CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    created_at  INTEGER NOT NULL,   -- ns since the Unix epoch
    receiver    TEXT    NOT NULL,
    integration TEXT    NOT NULL,   -- e.g. 'webhook[0]'
    group_key   TEXT    NOT NULL,
    state       TEXT    NOT NULL,   -- 'pending' | 'delivered' | 'dead'
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL,
    payload     TEXT    NOT NULL    -- JSON (see src/outbox.c)
);

CREATE INDEX deliveries_by_state ON deliveries (state, id);

CREATE TABLE delivery_log (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL,
    at          INTEGER NOT NULL,   -- ns since the Unix epoch
    outcome     TEXT    NOT NULL,   -- 'delivered' | 'failed' | 'dead' | 'replayed' | 'canceled'
    http_status INTEGER NOT NULL,   -- last HTTP status, 0 when none
    error       TEXT    NOT NULL,   -- redacted
    attempts    INTEGER NOT NULL,
    latency_ns  INTEGER NOT NULL
);

CREATE INDEX delivery_log_by_delivery ON delivery_log (delivery_id, id);
