-- What the operators' tools need of the ledger: keyset pagination of the history, the dead
-- list, and the mark a redrive or a discard leaves on a dead letter.
--
-- dead_settled_attempts is the attempt count at which the delivery's last dead letter was
-- redriven or discarded. A delivery is on the dead list while its status is failed or dead
-- and it has made more attempts than that: a redriven delivery that dies again is on it
-- once more, whatever the clocks of the hosts that recorded its attempts say, and an old
-- result recorded again (a recorder redelivery) cannot put a settled one back on it.
-- dead_settled_at says when, for the operator.

-- +goose Up
ALTER TABLE notification_deliveries
    ADD COLUMN dead_settled_attempts integer,
    ADD COLUMN dead_settled_at timestamptz;

-- History pages, newest first, resume after (created_at, delivery_id): without the id in
-- the index, rows that share a created_at would be sorted for every page.
CREATE INDEX notification_deliveries_created_id_idx
    ON notification_deliveries (created_at, delivery_id);
-- A tenant's history pages (the tenant's own deliveries, and the admin filter).
CREATE INDEX notification_deliveries_tenant_created_id_idx
    ON notification_deliveries (tenant_id, created_at, delivery_id);
-- The dead list and its counts. Partial: only failed and dead rows are in it, so the hot
-- path of the ledger (pending, retrying, delivered) pays nothing for it.
CREATE INDEX notification_deliveries_dead_idx
    ON notification_deliveries (created_at, delivery_id)
    WHERE status IN ('dead', 'failed');

-- +goose Down
DROP INDEX notification_deliveries_dead_idx;
DROP INDEX notification_deliveries_tenant_created_id_idx;
DROP INDEX notification_deliveries_created_id_idx;
ALTER TABLE notification_deliveries
    DROP COLUMN dead_settled_at,
    DROP COLUMN dead_settled_attempts;
