-- Facts about this instance that must survive restarts, one row per key.
--
-- 'peer_name': the name this instance gives itself as a (one-member) cluster peer in
-- GET /api/v2/status and alertmanager_cluster_peer_info: a ULID minted at the first start.
-- Alertmanager mints a new one at every start; alertrouter's data directory is its identity
-- (alerts, silences and the notification log survive restarts), so its name does too, and
-- dashboards keyed by peer name see one instance, not a new one per restart.

CREATE TABLE instance (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
