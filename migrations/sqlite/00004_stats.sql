-- The same as migrations/postgres/00004_stats.sql: a covering index of the dashboard's
-- charts, by the time a delivery's status last changed.

-- +goose Up
CREATE INDEX notification_deliveries_updated_idx
    ON notification_deliveries (updated_at, channel, status);

-- +goose Down
DROP INDEX notification_deliveries_updated_idx;
