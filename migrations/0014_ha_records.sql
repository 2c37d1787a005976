-- High availability on PostgreSQL, issue 14 (src/ha_records.c, docs/ha.md): the records that
-- came from another instance through the shared store are kept here marked with their origin
-- (the other instance's peer name) and their id there, so the publisher never sends them back
-- and a note edited on another instance finds the version it replaces. Local rows keep
-- origin ''. incidents.cluster_key names the group's episode the same way on every instance
-- (receiver, group key and the earliest startsAt of the alerts that opened it), which is how
-- a remote acknowledgement or note finds the local incident of the same episode.
-- ha_records_cursor keeps how far the remote streams were applied.

ALTER TABLE incidents ADD COLUMN cluster_key TEXT NOT NULL DEFAULT '';
CREATE INDEX incidents_by_cluster_key ON incidents (cluster_key) WHERE cluster_key != '';

ALTER TABLE incident_events ADD COLUMN origin TEXT NOT NULL DEFAULT '';

ALTER TABLE incident_notes ADD COLUMN origin TEXT NOT NULL DEFAULT '';
ALTER TABLE incident_notes ADD COLUMN origin_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX incident_notes_by_origin ON incident_notes (origin, origin_seq) WHERE origin != '';

CREATE TABLE ha_records_cursor (
  stream TEXT PRIMARY KEY,   -- 'acks' | 'notes'
  seq    INTEGER NOT NULL    -- the last PostgreSQL seq applied
);
