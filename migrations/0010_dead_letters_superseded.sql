-- Dead letters keep their payload only until a later notification for the same receiver,
-- integration and group is decided.
--
-- A dead letter keeps its payload so an operator can replay it. While a receiver keeps
-- failing, every flush of a changed group adds one more (~280 KB for a group of 280 alerts),
-- yet only the newest carries the group's current state: replaying an older one would send
-- what is no longer true. The writer now drops the payloads of older dead letters of the same
-- (receiver, integration, group key) when it records a new delivery; their rows stay as
-- history. This index finds them.

CREATE INDEX deliveries_dead_by_key ON deliveries (receiver, integration, group_key, id)
 WHERE state = 'dead';

DELETE FROM delivery_payloads
 WHERE id IN (SELECT d.id FROM deliveries d
               WHERE d.state = 'dead'
                 AND EXISTS (SELECT 1 FROM deliveries n
                              WHERE n.receiver = d.receiver AND n.integration = d.integration
                                AND n.group_key = d.group_key AND n.id > d.id));
