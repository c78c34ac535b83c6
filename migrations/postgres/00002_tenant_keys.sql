-- Tenant API keys (hk_...). Only a SHA-256 hash of each key is kept: the keys are 32 random
-- bytes, too many to guess, so a fast unsalted hash is enough to make the stored value
-- useless to whoever reads it, and it lets a request find its key by an index lookup.
-- A revoked key keeps its row (revoked_at set) so that the table tells who had access when.

-- +goose Up
CREATE TABLE notification_tenant_keys (
    key_id     text        COLLATE "C" PRIMARY KEY,
    tenant_id  text        COLLATE "C" NOT NULL,
    key_hash   bytea       NOT NULL
        CONSTRAINT notification_tenant_keys_hash_key UNIQUE
        CONSTRAINT notification_tenant_keys_hash_check CHECK (octet_length(key_hash) = 32),
    prefix     text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- A tenant's keys, in the order the API lists them.
CREATE INDEX notification_tenant_keys_tenant_idx ON notification_tenant_keys (tenant_id, key_id);

-- +goose Down
DROP TABLE notification_tenant_keys;
