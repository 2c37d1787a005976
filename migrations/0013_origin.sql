-- Replication on PostgreSQL (docs/ha.md, "Replication of silences and the notification log";
-- src/ha_sync.c): which instance wrote a silence event or a notification log row.
-- origin NULL: this instance (the rows the publisher pushes to PostgreSQL, keyed there by
-- their seq/id); a peer name: a row another instance wrote, received from PostgreSQL and kept
-- here so it survives a restart while PostgreSQL is down, and never published again.
--
-- Both tables are rebuilt with AUTOINCREMENT: a plain INTEGER PRIMARY KEY may hand out again
-- the id of a deleted newest row (garbage collection after --data.retention), and a reused
-- seq would collide with a row already published under it (PostgreSQL's unique
-- (origin, origin_seq)) and never be shared. Ids and order are kept.

-- (a database migrated past 0002 before 0002 existed lacks the table: store_silences.c
-- used to add it at load; here it must exist before the copy)
CREATE TABLE IF NOT EXISTS silence_events (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, event TEXT NOT NULL, at INTEGER NOT NULL,
    matchers TEXT NOT NULL, starts_at INTEGER NOT NULL, starts_off INTEGER NOT NULL DEFAULT 0,
    ends_at INTEGER NOT NULL, ends_off INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL,
    created_by TEXT NOT NULL, comment TEXT NOT NULL
);

CREATE TABLE silence_events_new (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT    NOT NULL,
    event      TEXT    NOT NULL CHECK (event IN ('created', 'updated', 'expired')),
    at         INTEGER NOT NULL,
    matchers   TEXT    NOT NULL,
    starts_at  INTEGER NOT NULL,
    starts_off INTEGER NOT NULL DEFAULT 0,
    ends_at    INTEGER NOT NULL,
    ends_off   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    comment    TEXT    NOT NULL,
    origin     TEXT
);
INSERT INTO silence_events_new (seq, id, event, at, matchers, starts_at, starts_off, ends_at,
                                ends_off, updated_at, created_by, comment)
SELECT seq, id, event, at, matchers, starts_at, starts_off, ends_at, ends_off, updated_at,
       created_by, comment FROM silence_events;
DROP TABLE silence_events;
ALTER TABLE silence_events_new RENAME TO silence_events;
CREATE INDEX silence_events_by_id ON silence_events (id, seq);

CREATE TABLE nflog_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT    NOT NULL,
    receiver    TEXT    NOT NULL,
    integration TEXT    NOT NULL,
    group_key   TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    firing      TEXT    NOT NULL,
    resolved    TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    origin      TEXT
);
INSERT INTO nflog_new (id, key, receiver, integration, group_key, sent_at, firing, resolved,
                       expires_at)
SELECT id, key, receiver, integration, group_key, sent_at, firing, resolved, expires_at
  FROM nflog;
DROP TABLE nflog;
ALTER TABLE nflog_new RENAME TO nflog;
CREATE INDEX nflog_by_key ON nflog (key, id);
