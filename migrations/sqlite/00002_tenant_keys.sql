-- Tenant API keys (hk_...), as in migrations/postgres: only a SHA-256 hash of each key is
-- kept, and a revoked key keeps its row with revoked_at set. Times are TEXT in the fixed-width
-- UTC form of 00001_init.sql.

-- +goose Up
CREATE TABLE notification_tenant_keys (
    key_id     TEXT NOT NULL PRIMARY KEY,
    tenant_id  TEXT NOT NULL,
    key_hash   BLOB NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    prefix     TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;

CREATE INDEX notification_tenant_keys_tenant_idx ON notification_tenant_keys (tenant_id, key_id);

-- +goose Down
DROP TABLE notification_tenant_keys;
