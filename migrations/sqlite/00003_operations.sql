-- The same as migrations/postgres/00003_operations.sql: the columns a redrive or a discard
-- sets on a dead letter, and the indexes of history pages and of the dead list. Times are
-- TEXT in the fixed-width form of 00001.

-- +goose Up
ALTER TABLE notification_deliveries ADD COLUMN dead_settled_attempts INTEGER;
ALTER TABLE notification_deliveries ADD COLUMN dead_settled_at TEXT;

CREATE INDEX notification_deliveries_created_id_idx
    ON notification_deliveries (created_at, delivery_id);
CREATE INDEX notification_deliveries_tenant_created_id_idx
    ON notification_deliveries (tenant_id, created_at, delivery_id);
CREATE INDEX notification_deliveries_dead_idx
    ON notification_deliveries (created_at, delivery_id)
    WHERE status IN ('dead', 'failed');

-- +goose Down
DROP INDEX notification_deliveries_dead_idx;
DROP INDEX notification_deliveries_tenant_created_id_idx;
DROP INDEX notification_deliveries_created_id_idx;
ALTER TABLE notification_deliveries DROP COLUMN dead_settled_at;
ALTER TABLE notification_deliveries DROP COLUMN dead_settled_attempts;
