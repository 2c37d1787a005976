-- Notification log (COMPAT 5.7): one row per successful notification of an integration for
-- an aggregation group, appended, never updated. The dedup state of a key is its newest row;
-- maintenance deletes superseded and expired rows. `key` is "<receiver>/<type>[<index>]/<group key>".

CREATE TABLE nflog (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL,
    receiver    TEXT    NOT NULL,
    integration TEXT    NOT NULL,          -- e.g. webhook[0]
    group_key   TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,          -- ns
    firing      TEXT    NOT NULL,          -- space-separated hex fingerprints
    resolved    TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL           -- ns
);

CREATE INDEX nflog_by_key ON nflog (key, id);
