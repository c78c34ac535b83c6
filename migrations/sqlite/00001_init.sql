-- The delivery ledger of the embedded store, the same tables as migrations/postgres.
--
-- Times are TEXT in one fixed-width UTC form, 2006-01-02T15:04:05.000000Z (microseconds, as
-- PostgreSQL keeps them), so that comparing and ordering the strings compares the times.
-- Defaults use strftime's millisecond %f followed by '000' to keep that width.
--
-- As in PostgreSQL, notification_attempts has no foreign key: Record writes the delivery
-- first in the same transaction. Delete from both tables when pruning old deliveries.

-- +goose Up
CREATE TABLE notification_deliveries (
    delivery_id TEXT    NOT NULL PRIMARY KEY,
    event_id    TEXT    NOT NULL,
    tenant_id   TEXT    NOT NULL DEFAULT '',
    event_type  TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    destination TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL
        CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'dead')),
    attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL
) STRICT;

CREATE INDEX notification_deliveries_created_at_idx ON notification_deliveries (created_at);
CREATE INDEX notification_deliveries_tenant_created_idx ON notification_deliveries (tenant_id, created_at);
CREATE INDEX notification_deliveries_event_id_idx ON notification_deliveries (event_id);
CREATE INDEX notification_deliveries_status_idx ON notification_deliveries (status, created_at);

CREATE TABLE notification_attempts (
    delivery_id  TEXT    NOT NULL,
    attempt      INTEGER NOT NULL CHECK (attempt > 0),
    status       TEXT    NOT NULL
        CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'dead')),
    error        TEXT    NOT NULL DEFAULT '',
    http_status  INTEGER NOT NULL DEFAULT 0,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    attempted_at TEXT    NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) STRICT, WITHOUT ROWID;

-- config is the destination's settings as JSON encrypted by the application; event_types is
-- a JSON array of strings (text[] in PostgreSQL).
CREATE TABLE notification_config (
    id             INTEGER NOT NULL PRIMARY KEY,
    tenant_id      TEXT    NOT NULL,
    destination_id TEXT    NOT NULL,
    channel        TEXT    NOT NULL,
    config         BLOB    NOT NULL,
    event_types    TEXT    NOT NULL DEFAULT '[]'
        CHECK (json_valid(event_types) AND json_type(event_types) = 'array'),
    enabled        INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    updated_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    UNIQUE (tenant_id, destination_id)
) STRICT;

-- +goose Down
DROP TABLE notification_config;
DROP TABLE notification_attempts;
DROP TABLE notification_deliveries;
