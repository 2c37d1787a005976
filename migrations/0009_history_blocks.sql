-- History is stored one block per transaction instead of one indexed row per event.
--
-- A Prometheus-like load with 1% churn records tens of events a second, each with its
-- labels; as rows (with an index) that alone grew the database by ~80 MiB an hour. A block
-- holds every event of one commit as JSON lines ({"at","event","fingerprint","startsAt",
-- "endsAt","labels"}), zstd-compressed (format 1) by the writer: repeated label names and
-- values compress ~10x. Readers (src/store_history.c) select blocks by time and decode
-- them. The rows written before this migration become uncompressed blocks (format 0) of
-- up to 1,000 events each, in their original order.

CREATE TABLE history_blocks (
    id       INTEGER PRIMARY KEY,
    first_at INTEGER NOT NULL,   -- ns since the Unix epoch, earliest event in the block
    last_at  INTEGER NOT NULL,   -- latest event
    events   INTEGER NOT NULL,   -- number of JSON lines
    format   INTEGER NOT NULL,   -- 0: plain JSON lines, 1: zstd frame of JSON lines
    data     BLOB    NOT NULL
);

-- Blocks arrive in time order; selecting by time window and pruning the oldest use this.
CREATE INDEX history_blocks_by_time ON history_blocks (last_at);

INSERT INTO history_blocks (first_at, last_at, events, format, data)
SELECT min(at), max(at), count(*), 0, CAST(group_concat(line, char(10)) || char(10) AS BLOB)
  FROM (SELECT id, (id - 1) / 1000 AS blk, at,
               json_object('at', at, 'event', event,
                           'fingerprint', printf('%016x', fingerprint),
                           'startsAt', starts_at, 'endsAt', ends_at,
                           'labels', json(labels)) AS line
          FROM alert_events ORDER BY id)
 GROUP BY blk
 ORDER BY blk;

DROP TABLE alert_events;
