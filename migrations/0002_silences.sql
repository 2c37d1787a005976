-- Silences as an append-only event log: every change of a silence appends one row holding
-- the whole silence as it is after the change ('created', 'updated' or 'expired'). The
-- current state of an id is its row with the highest seq; start-up loads those rows.
-- Garbage collection after --data.retention deletes every row of the id.
-- Times are nanoseconds since the Unix epoch; *_off columns keep the UTC offset (minutes)
-- the client wrote, so API output round-trips "+02:00".

CREATE TABLE silence_events (
    seq        INTEGER PRIMARY KEY,   -- order of the changes
    id         TEXT    NOT NULL,      -- silence UUID
    event      TEXT    NOT NULL CHECK (event IN ('created', 'updated', 'expired')),
    at         INTEGER NOT NULL,      -- when the router recorded the change (ns)
    matchers   TEXT    NOT NULL,      -- JSON array of {"name","op","value"} in posted order
    starts_at  INTEGER NOT NULL,
    starts_off INTEGER NOT NULL DEFAULT 0,
    ends_at    INTEGER NOT NULL,
    ends_off   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    comment    TEXT    NOT NULL
);

CREATE INDEX silence_events_by_id ON silence_events (id, seq);
