-- Incidents (src/incident.c, src/store_incidents.c): one aggregation group's episode, from its
-- first firing alert to the flush that reports everything resolved.
--
-- incidents holds the current state of each (a small row rewritten on every change: open,
-- severity changed, acknowledged, ack cleared, resolved; the title is rendered when read,
-- from the alerts); incident_alerts the alerts
-- that joined it, one row each (labels and annotations as JSON objects, written when the
-- alert joins or resolves, so a big group never rewrites all of them). incident_events is
-- its timeline (append-only; detail is a JSON object whose keys depend on kind);
-- incident_notes the responders' notes (append-only: an edit is a new row naming the note it
-- replaces).

CREATE TABLE incidents (
  id           INTEGER PRIMARY KEY,
  receiver     TEXT NOT NULL,
  group_key    TEXT NOT NULL,
  group_labels TEXT NOT NULL,
  severity     TEXT NOT NULL,
  state        TEXT NOT NULL,
  opened_at    INTEGER NOT NULL,
  acked_at     INTEGER NOT NULL DEFAULT 0,
  acked_by     TEXT NOT NULL DEFAULT '',
  ack_comment  TEXT NOT NULL DEFAULT '',
  resolved_at  INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE INDEX incidents_unresolved ON incidents (id) WHERE state != 'resolved';

CREATE TABLE incident_alerts (
  incident_id INTEGER NOT NULL,
  fingerprint TEXT NOT NULL,
  resolved    INTEGER NOT NULL,
  labels      TEXT NOT NULL,
  annotations TEXT NOT NULL,
  PRIMARY KEY (incident_id, fingerprint)
) WITHOUT ROWID;

CREATE TABLE incident_events (
  seq         INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  kind        TEXT NOT NULL,
  detail      TEXT NOT NULL
);
CREATE INDEX incident_events_by_incident ON incident_events (incident_id, seq);

CREATE TABLE incident_notes (
  id          INTEGER PRIMARY KEY,
  incident_id INTEGER NOT NULL,
  at          INTEGER NOT NULL,
  section     TEXT NOT NULL,
  author      TEXT NOT NULL,
  text        TEXT NOT NULL,
  replaces    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX incident_notes_by_incident ON incident_notes (incident_id, id);
