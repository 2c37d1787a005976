-- Alert state as an append-only log: every accepted change of an alert appends one row
-- (op 'put' with the whole merged alert; 'touch' when a re-post changed only its end and
-- update times, as Prometheus' periodic re-sends do; 'delete' when garbage-collected). The current
-- state of a fingerprint is its row with the highest seq; start-up replays the log in seq
-- order. Appending at the end of the B-tree keeps each commit to a few sequential pages;
-- compaction re-appends live alerts and deletes the prefix of the log they supersede.
-- Times are nanoseconds since the Unix epoch; *_off columns keep the UTC offset (minutes)
-- the client wrote, so API output round-trips "+02:00".

CREATE TABLE alert_log (
    seq           INTEGER PRIMARY KEY,       -- assigned in order by the core thread
    fingerprint   INTEGER NOT NULL,          -- 64-bit fingerprint stored as a signed integer
    op            TEXT    NOT NULL CHECK (op IN ('put', 'touch', 'delete')),
    labels        TEXT,                      -- JSON object, sorted by name (put)
    annotations   TEXT,                      -- JSON object (put)
    generator_url TEXT,
    starts_at     INTEGER,
    starts_off    INTEGER NOT NULL DEFAULT 0,
    ends_at       INTEGER,
    ends_off      INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER,
    timeout       INTEGER NOT NULL DEFAULT 0 -- 1 when ends_at was synthesised from resolve_timeout
);

-- Alert history: one row per state change (firing, resolved, deleted), kept independently
-- of compaction, for history queries and incident reports.
CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY,
    fingerprint INTEGER NOT NULL,
    at          INTEGER NOT NULL,            -- when the router recorded the change (ns)
    event       TEXT    NOT NULL,            -- 'firing' | 'resolved' | 'deleted'
    labels      TEXT,                        -- JSON object (on 'firing', so history survives GC)
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL
);

-- Only a time index: rows arrive in time order, so it grows at its end like the table.
-- (An index by fingerprint would touch a random page per new alert on the ingest path;
-- per-alert history queries can scan a time window instead.)
CREATE INDEX alert_events_by_time ON alert_events (at);
