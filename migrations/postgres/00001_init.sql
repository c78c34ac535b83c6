-- The delivery ledger: one row per delivery, one row per attempt, and the tenants' own
-- destinations. Written by store/postgres from the RESULTS stream, in batches.
--
-- Identifiers use the "C" collation: they are opaque ASCII, byte order is what SQLite's
-- store sorts by too, and it makes their indexes cheaper than a linguistic collation.
--
-- notification_attempts has no foreign key to notification_deliveries on purpose: Record
-- writes both in one transaction, delivery first, so the key would hold anyway, and checking
-- it doubles the cost of the attempts insert on the ledger's hot path. Delete from both tables
-- when pruning old deliveries.

-- +goose Up
CREATE TABLE notification_deliveries (
    delivery_id text        COLLATE "C" PRIMARY KEY,
    event_id    text        COLLATE "C" NOT NULL,
    tenant_id   text        COLLATE "C" NOT NULL DEFAULT '',
    event_type  text        NOT NULL,
    channel     text        NOT NULL,
    destination text        NOT NULL DEFAULT '',
    status      text        NOT NULL
        CONSTRAINT notification_deliveries_status_check
        CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'dead')),
    attempts    integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

-- The status summary (WHERE created_at > NOW() - INTERVAL '24 hours' GROUP BY ...) and the
-- history's default order, newest first.
CREATE INDEX notification_deliveries_created_at_idx ON notification_deliveries (created_at);
-- A tenant's history.
CREATE INDEX notification_deliveries_tenant_created_idx ON notification_deliveries (tenant_id, created_at);
-- Every delivery of one event.
CREATE INDEX notification_deliveries_event_id_idx ON notification_deliveries (event_id);
-- Failed and dead deliveries for redrive.
CREATE INDEX notification_deliveries_status_idx ON notification_deliveries (status, created_at);

CREATE TABLE notification_attempts (
    delivery_id  text        COLLATE "C" NOT NULL,
    attempt      integer     NOT NULL CHECK (attempt > 0),
    status       text        NOT NULL
        CONSTRAINT notification_attempts_status_check
        CHECK (status IN ('pending', 'retrying', 'delivered', 'failed', 'dead')),
    error        text        NOT NULL DEFAULT '',
    http_status  integer     NOT NULL DEFAULT 0,
    duration_ms  bigint      NOT NULL DEFAULT 0,
    attempted_at timestamptz NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);

-- A tenant's destinations and the event types each subscribes to. config holds the
-- destination's settings as JSON encrypted by the application (it carries secrets: webhook
-- signing keys, API tokens), so the database never sees them in clear.
CREATE TABLE notification_config (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id      text        COLLATE "C" NOT NULL,
    destination_id text        COLLATE "C" NOT NULL,
    channel        text        NOT NULL,
    config         bytea       NOT NULL,
    event_types    text[]      NOT NULL DEFAULT '{}',
    enabled        boolean     NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT notification_config_tenant_destination_key UNIQUE (tenant_id, destination_id)
);

-- +goose Down
DROP TABLE notification_config;
DROP TABLE notification_attempts;
DROP TABLE notification_deliveries;
