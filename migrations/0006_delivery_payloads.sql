-- Payloads leave the `deliveries` row, and only open deliveries stay indexed by state.
--
-- A delivery's summary row is updated when it completes; with the ~1 KB payload inside it,
-- that update rewrote the whole payload and dirtied its page a second time, and the index
-- on (state, id) moved every row from the 'pending' to the 'delivered' range. The payload
-- is written once and never changed, so it now lives in a table of its own, and the state
-- index keeps only what start-up, replay and the gauges look for: pending and dead rows
-- (queries name `state <> 'delivered'` so SQLite may use it).

CREATE TABLE delivery_payloads (
    id      INTEGER PRIMARY KEY,   -- deliveries.id
    payload TEXT    NOT NULL       -- JSON (see src/outbox.c)
);

INSERT INTO delivery_payloads (id, payload) SELECT id, payload FROM deliveries;

DROP INDEX deliveries_by_state;
ALTER TABLE deliveries DROP COLUMN payload;
CREATE INDEX deliveries_open ON deliveries (state, id) WHERE state <> 'delivered';
