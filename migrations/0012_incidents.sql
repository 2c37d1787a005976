-- Incidents (src/incident.c, src/store_incidents.c): one aggregation group's episode, from its
-- first firing alert to the flush that reports everything resolved.
--
-- incidents holds the current state of each (rewritten on every change: open, alert joined,
-- acknowledged, ack cleared, resolved); alerts is a JSON array of the alerts that joined it
-- ({"fingerprint","labels","annotations","resolved"}), so matchers and reports need no other
-- table. incident_events is its timeline (append-only; detail is a JSON object whose keys
-- depend on kind); incident_notes the responders' notes (append-only: an edit is a new row
-- naming the note it replaces).

CREATE TABLE incidents (
  id           INTEGER PRIMARY KEY,
  receiver     TEXT NOT NULL,
  group_key    TEXT NOT NULL,
  group_labels TEXT NOT NULL,
  title        TEXT NOT NULL,
  severity     TEXT NOT NULL,
  state        TEXT NOT NULL,
  opened_at    INTEGER NOT NULL,
  acked_at     INTEGER NOT NULL DEFAULT 0,
  acked_by     TEXT NOT NULL DEFAULT '',
  ack_comment  TEXT NOT NULL DEFAULT '',
  resolved_at  INTEGER NOT NULL DEFAULT 0,
  alerts       TEXT NOT NULL
);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE INDEX incidents_unresolved ON incidents (id) WHERE state != 'resolved';

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
