-- Replication on PostgreSQL (docs/ha.md, "Replication of silences and the notification log";
-- src/ha_sync.c): which instance wrote a silence event or a notification log row.
-- NULL: this instance (the rows the publisher pushes to PostgreSQL, keyed by their seq/id);
-- a peer name: a row another instance wrote, received from PostgreSQL and kept here so it
-- survives a restart while PostgreSQL is down, and never published again.

ALTER TABLE silence_events ADD COLUMN origin TEXT;
ALTER TABLE nflog ADD COLUMN origin TEXT;
