package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
)

var _ store.DestinationStore = (*Store)(nil)

const destinationColumnList = `tenant_id, destination_id, channel, config, event_types, enabled,
	created_at, updated_at`

// CreateDestination stores a new destination; see store.DestinationStore. ON CONFLICT DO
// NOTHING, rather than catching the unique violation, tells an existing destination apart
// without aborting anything.
func (s *Store) CreateDestination(ctx context.Context, d store.TenantDestination) (store.TenantDestination, error) {
	if err := d.Validate(); err != nil {
		return store.TenantDestination{}, fmt.Errorf("create destination: %w", err)
	}
	now := destinationNow()
	rows, _ := s.pool.Query(ctx, `INSERT INTO notification_config
		(tenant_id, destination_id, channel, config, event_types, enabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (tenant_id, destination_id) DO NOTHING
		RETURNING `+destinationColumnList,
		d.Tenant, d.ID, d.Channel, nonNil(d.Config), nonNil(d.EventTypes), d.Enabled, now)
	out, err := collectDestination(rows, d.Tenant, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		err = fmt.Errorf("destination %q of tenant %q: %w", d.ID, d.Tenant, store.ErrExists)
	}
	if err != nil {
		return store.TenantDestination{}, s.wrap("create destination", err)
	}
	return out, nil
}

// UpdateDestination replaces a destination's settings; see store.DestinationStore.
func (s *Store) UpdateDestination(ctx context.Context, d store.TenantDestination) (store.TenantDestination, error) {
	if err := d.Validate(); err != nil {
		return store.TenantDestination{}, fmt.Errorf("update destination: %w", err)
	}
	rows, _ := s.pool.Query(ctx, `UPDATE notification_config
		SET channel = $3, config = $4, event_types = $5, enabled = $6, updated_at = $7
		WHERE tenant_id = $1 AND destination_id = $2
		RETURNING `+destinationColumnList,
		d.Tenant, d.ID, d.Channel, nonNil(d.Config), nonNil(d.EventTypes), d.Enabled, destinationNow())
	out, err := collectDestination(rows, d.Tenant, d.ID)
	if err != nil {
		return store.TenantDestination{}, s.wrap("update destination", err)
	}
	return out, nil
}

// Destination returns one of the tenant's destinations; see store.DestinationStore.
func (s *Store) Destination(ctx context.Context, tenant, id string) (store.TenantDestination, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+destinationColumnList+` FROM notification_config
		WHERE tenant_id = $1 AND destination_id = $2`, tenant, id)
	out, err := collectDestination(rows, tenant, id)
	if err != nil {
		return store.TenantDestination{}, s.wrap("get destination", err)
	}
	return out, nil
}

// ListDestinations lists the tenant's destinations, or every tenant's for tenant "", in
// byte order of tenant then ID (the columns' "C" collation); see store.DestinationStore.
func (s *Store) ListDestinations(ctx context.Context, tenant string) ([]store.TenantDestination, error) {
	query := `SELECT ` + destinationColumnList + ` FROM notification_config`
	var args []any
	if tenant != "" {
		query += ` WHERE tenant_id = $1`
		args = append(args, tenant)
	}
	rows, _ := s.pool.Query(ctx, query+` ORDER BY tenant_id, destination_id`, args...)
	out, err := pgx.CollectRows(rows, scanDestination)
	if err != nil {
		return nil, s.wrap("list destinations", err)
	}
	return nonNil(out), nil
}

// DeleteDestination removes one of the tenant's destinations; see store.DestinationStore.
func (s *Store) DeleteDestination(ctx context.Context, tenant, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM notification_config
		WHERE tenant_id = $1 AND destination_id = $2`, tenant, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = fmt.Errorf("destination %q of tenant %q: %w", id, tenant, store.ErrNotFound)
	}
	if err != nil {
		return s.wrap("delete destination", err)
	}
	return nil
}

// SetEnabled enables or disables one of the tenant's destinations; see
// store.DestinationStore.
func (s *Store) SetEnabled(ctx context.Context, tenant, id string, enabled bool) (store.TenantDestination, error) {
	rows, _ := s.pool.Query(ctx, `UPDATE notification_config SET enabled = $3, updated_at = $4
		WHERE tenant_id = $1 AND destination_id = $2
		RETURNING `+destinationColumnList, tenant, id, enabled, destinationNow())
	out, err := collectDestination(rows, tenant, id)
	if err != nil {
		return store.TenantDestination{}, s.wrap("set destination enabled", err)
	}
	return out, nil
}

// destinationNow is the time the store writes: in UTC and microsecond precision, as the
// column keeps it, so that what a write returns equals what a read returns later.
func destinationNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// collectDestination reads the single destination rows holds, or returns an error wrapping
// store.ErrNotFound if it holds none. A query error surfaces here: pgx reports it through
// rows.
func collectDestination(rows pgx.Rows, tenant, id string) (store.TenantDestination, error) {
	d, err := pgx.CollectExactlyOneRow(rows, scanDestination)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.TenantDestination{}, fmt.Errorf("destination %q of tenant %q: %w", id, tenant, store.ErrNotFound)
	}
	return d, err
}

func scanDestination(row pgx.CollectableRow) (store.TenantDestination, error) {
	var d store.TenantDestination
	err := row.Scan(&d.Tenant, &d.ID, &d.Channel, &d.Config, &d.EventTypes, &d.Enabled,
		&d.CreatedAt, &d.UpdatedAt)
	d.Config, d.EventTypes = nonNil(d.Config), nonNil(d.EventTypes)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

// nonNil returns s, or an empty slice for nil: pgx sends a nil slice as NULL, which the NOT
// NULL columns refuse, and callers get empty, not nil, slices back.
func nonNil[S ~[]E, E any](s S) S {
	if s == nil {
		return S{}
	}
	return s
}
