-- The cluster's own tables (docs/ha.md sections 2 and 3). Times here are timestamptz from
-- the server's clock (now()), so leases and heartbeats do not depend on the instances'
-- clocks agreeing.

-- Live instances: each upserts its row at start and every 5 s; peers are the rows with a
-- recent heartbeat.
CREATE TABLE instances (
    name       text        PRIMARY KEY,   -- ULID peer name (include/ar/cluster.h)
    address    text        NOT NULL,      -- advertise host:port
    api_url    text        NOT NULL,      -- --web.external-url
    version    text        NOT NULL,
    started_at timestamptz NOT NULL,
    heartbeat  timestamptz NOT NULL
);

-- Flush claims: one row per (receiver, integration, group, alerts' state); an instance
-- sends only after its conditional INSERT ... ON CONFLICT ... WHERE lease expired returned
-- the row. done_at is set with the nflog row when the outcome is recorded.
CREATE TABLE flush_claims (
    receiver    text        NOT NULL,
    integration text        NOT NULL,
    group_key   text        NOT NULL,
    state_hash  bytea       NOT NULL,     -- SHA-256 of the firing and resolved fingerprints
    owner       text        NOT NULL,     -- instances.name
    delivery_id bigint,                   -- deliveries.id holding the payload
    claimed_at  timestamptz NOT NULL,
    lease_until timestamptz NOT NULL,
    done_at     timestamptz,
    PRIMARY KEY (receiver, integration, group_key, state_hash)
);
CREATE INDEX flush_claims_open ON flush_claims (lease_until) WHERE done_at IS NULL;
