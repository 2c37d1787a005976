-- A delivered notification keeps a summary instead of its payload.
--
-- The payload (every alert of the group with labels and annotations, ~225 KB for a group
-- of 500) is needed only while a delivery may still be sent: pending (resumed after a
-- crash) or dead (replayed by an operator). Kept until --data.retention for every delivered
-- notification, it grew a busy database by over a megabyte a second. What the history
-- needs afterwards is small: how many alerts the notification carried in each state, and
-- which alerts were new to the receiver's notification log, i.e. why it was sent.

ALTER TABLE deliveries ADD COLUMN firing_count   INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN resolved_count INTEGER NOT NULL DEFAULT 0;
-- Fingerprints, 8 bytes big-endian each, sorted; NULL when none (and for older rows).
ALTER TABLE deliveries ADD COLUMN new_firing     BLOB;
ALTER TABLE deliveries ADD COLUMN new_resolved   BLOB;

DELETE FROM delivery_payloads
 WHERE id IN (SELECT id FROM deliveries WHERE state = 'delivered');
