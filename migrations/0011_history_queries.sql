-- What the history queries (/api/x/history/*, src/store_history.c) need to stay indexed.
--
-- Alert history: a query selects the blocks of its window through history_blocks_by_time
-- (last_at) and must know how far past the window's end a block that still overlaps it can
-- end. Blocks written from now on span at most 60 s (the writer starts a new block
-- beyond that); the blocks written before may span more (the 0009 conversion put up to
-- 1,000 events in one), so their widest span is kept here for as long as any of them is
-- left. From this version on every event line also carries the alert's labels and
-- annotations; older lines carry labels on "firing" events only.
CREATE TABLE history_span (
    below_id INTEGER NOT NULL,   -- blocks with a smaller id may span up to span_ns
    span_ns  INTEGER NOT NULL
);
INSERT INTO history_span (below_id, span_ns)
SELECT coalesce(max(id), 0) + 1, coalesce(max(last_at - first_at), 0) FROM history_blocks;

-- A Bloom filter of the label pairs of a block's events (src/store_history.c), so a query
-- with an equality matcher skips the blocks that cannot hold a match without decompressing
-- them; NULL for the blocks written before (never skipped).
ALTER TABLE history_blocks ADD COLUMN labels_bloom BLOB;

-- Notification history: a time window over deliveries by creation time.
CREATE INDEX deliveries_by_created ON deliveries (created_at);
