-- Alerts as last posted and merged, one row per fingerprint (the working set, reloaded at
-- start), and an append-only log of alert state changes for history and incident reports.
-- Times are nanoseconds since the Unix epoch; *_off columns keep the UTC offset (minutes)
-- the client wrote, so API output round-trips "+02:00".

CREATE TABLE alerts (
    fingerprint   INTEGER PRIMARY KEY,      -- 64-bit fingerprint stored as a signed integer
    labels        TEXT    NOT NULL,         -- JSON object, sorted by name
    annotations   TEXT    NOT NULL,         -- JSON object
    generator_url TEXT,
    starts_at     INTEGER NOT NULL,
    starts_off    INTEGER NOT NULL DEFAULT 0,
    ends_at       INTEGER NOT NULL,
    ends_off      INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    timeout       INTEGER NOT NULL DEFAULT 0 -- 1 when ends_at was synthesised from resolve_timeout
);

CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY,
    fingerprint INTEGER NOT NULL,
    at          INTEGER NOT NULL,           -- when the router recorded the change (ns)
    event       TEXT    NOT NULL,           -- 'firing' | 'resolved' | 'deleted'
    labels      TEXT,                       -- JSON object (on 'firing', so history survives GC)
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL
);

CREATE INDEX alert_events_by_fingerprint ON alert_events (fingerprint, at);
CREATE INDEX alert_events_by_time ON alert_events (at);
