-- Alert state as an append-only log of records, written one block per transaction (group
-- commit): a block row holds every record of that commit, so the cost per alert is an
-- encoding, not a B-tree insert. Each record has a sequence number (first_seq..last_seq of
-- its block, in order). Record kinds: 'put' (the whole merged alert), 'touch' (a re-post
-- that changed only end and update times, as Prometheus' periodic re-sends do) and 'delete'
-- (garbage-collected). The current state of a fingerprint is its last record; start-up
-- replays the blocks in order. Compaction re-appends the live alerts and deletes the blocks
-- that end before the compaction began.
--
-- Record encoding (little-endian): u8 kind (1 put, 2 touch, 3 delete), u64 fingerprint;
--   put:    i64 starts_at, i16 starts_off, i64 ends_at, i16 ends_off, i64 updated_at,
--           u8 timeout, u32 len + generator URL, u16 n + n x (u32 len + name, u32 len + value)
--           for labels, then the same for annotations;
--   touch:  i64 ends_at, i16 ends_off, i64 updated_at, u8 timeout;
--   delete: nothing more.
-- Times are nanoseconds since the Unix epoch; *_off keep the client's UTC offset (minutes).

CREATE TABLE alert_log (
    first_seq INTEGER PRIMARY KEY,
    last_seq  INTEGER NOT NULL,
    records   BLOB    NOT NULL
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
