-- Records published by each instance from its local SQLite store (src/ha_records.c,
-- docs/ha.md "Incidents, acknowledgements, notes, audit, deliveries and history"): every row
-- carries origin (the instance's peer name) and origin_seq (its id in that instance's SQLite
-- store), unique together, so a publisher that reconnects resends from max(origin_seq) of its
-- own origin and a row sent twice is stored once. Summary rows only: no payloads (they are
-- the receivers' request bodies), delivery errors as redacted in the local log.

ALTER TABLE audit_log ADD COLUMN origin_seq bigint;
CREATE UNIQUE INDEX audit_log_by_origin ON audit_log (origin, origin_seq);

ALTER TABLE deliveries ADD COLUMN origin_seq bigint;
CREATE UNIQUE INDEX deliveries_by_origin ON deliveries (origin, origin_seq);

ALTER TABLE delivery_log ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE delivery_log ADD COLUMN origin_seq bigint;
CREATE UNIQUE INDEX delivery_log_by_origin ON delivery_log (origin, origin_seq);

ALTER TABLE history_blocks ADD COLUMN origin text NOT NULL DEFAULT '';
ALTER TABLE history_blocks ADD COLUMN origin_seq bigint;
CREATE UNIQUE INDEX history_blocks_by_origin ON history_blocks (origin, origin_seq);

-- One row per incident of each instance (its current state, rewritten on change).
-- cluster_key names the group's episode the same on every instance.
CREATE TABLE incidents (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin       text   NOT NULL,
    origin_seq   bigint NOT NULL,
    cluster_key  text   NOT NULL,
    receiver     text   NOT NULL,
    group_key    text   NOT NULL,
    group_labels text   NOT NULL,
    severity     text   NOT NULL,
    state        text   NOT NULL,
    opened_at    bigint NOT NULL,
    acked_at     bigint NOT NULL,
    acked_by     text   NOT NULL,
    ack_comment  text   NOT NULL,
    resolved_at  bigint NOT NULL,
    UNIQUE (origin, origin_seq)
);
CREATE INDEX incidents_by_cluster_key ON incidents (cluster_key);

-- Timelines (append-only). incident_seq is the incident's id at its origin.
CREATE TABLE incident_events (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin       text   NOT NULL,
    origin_seq   bigint NOT NULL,
    incident_seq bigint NOT NULL,
    cluster_key  text   NOT NULL,
    at           bigint NOT NULL,
    kind         text   NOT NULL,
    detail       text   NOT NULL,
    UNIQUE (origin, origin_seq)
);
CREATE INDEX incident_events_acks ON incident_events (seq) WHERE kind = 'acknowledged';

-- Notes (append-only; an edit names the version it replaces by its origin and id there).
CREATE TABLE incident_notes (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    origin          text   NOT NULL,
    origin_seq      bigint NOT NULL,
    incident_seq    bigint NOT NULL,
    cluster_key     text   NOT NULL,
    at              bigint NOT NULL,
    section         text   NOT NULL,
    author          text   NOT NULL,
    text            text   NOT NULL,
    replaces_origin text   NOT NULL DEFAULT '',
    replaces_seq    bigint NOT NULL DEFAULT 0,
    UNIQUE (origin, origin_seq)
);
