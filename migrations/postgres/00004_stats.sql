-- The dashboard's charts count deliveries by the step in which their status last changed,
-- per channel and status. With channel and status in the index, the query reads the index
-- alone (an index-only scan of the window's range), however wide the rows of the ledger.

-- +goose Up
CREATE INDEX notification_deliveries_updated_idx
    ON notification_deliveries (updated_at, channel, status);

-- +goose Down
DROP INDEX notification_deliveries_updated_idx;
