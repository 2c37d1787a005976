-- Idempotent publication (docs/ha.md, "Replication of silences and the notification log";
-- src/ha_sync.c): each row an instance publishes carries its local seq/id as origin_seq, so
-- (origin, origin_seq) names it once across the cluster. A publisher that reconnects asks
-- for max(origin_seq) of its own origin and pushes what follows; a row pushed twice (a
-- commit whose answer was lost) hits the unique index and is skipped. Rows written without
-- it (origin_seq NULL) never conflict.

ALTER TABLE silence_events ADD COLUMN origin_seq bigint;
ALTER TABLE nflog ADD COLUMN origin_seq bigint;
CREATE UNIQUE INDEX silence_events_by_origin ON silence_events (origin, origin_seq);
CREATE UNIQUE INDEX nflog_by_origin ON nflog (origin, origin_seq);
