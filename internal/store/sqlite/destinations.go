package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

var _ store.DestinationStore = (*Store)(nil)

const destinationColumnList = `tenant_id, destination_id, channel, config, event_types, enabled,
	created_at, updated_at`

// CreateDestination stores a new destination; see store.DestinationStore. ON CONFLICT DO
// NOTHING, rather than catching the constraint error, tells an existing destination apart.
func (s *Store) CreateDestination(ctx context.Context, d store.TenantDestination) (store.TenantDestination, error) {
	if err := d.Validate(); err != nil {
		return store.TenantDestination{}, fmt.Errorf("create destination: %w", err)
	}
	eventTypes, err := encodeEventTypes(d.EventTypes)
	if err != nil {
		return store.TenantDestination{}, fmt.Errorf("create destination: %w", err)
	}
	now := formatTime(time.Now())
	out, err := scanDestination(s.write.QueryRowContext(ctx, `INSERT INTO notification_config
		(tenant_id, destination_id, channel, config, event_types, enabled, created_at, updated_at)
		VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)
		ON CONFLICT (tenant_id, destination_id) DO NOTHING
		RETURNING `+destinationColumnList,
		d.Tenant, d.ID, d.Channel, nonNilBytes(d.Config), eventTypes, d.Enabled, now))
	if errors.Is(err, sql.ErrNoRows) {
		err = fmt.Errorf("destination %q of tenant %q: %w", d.ID, d.Tenant, store.ErrExists)
	}
	if err != nil {
		return store.TenantDestination{}, fmt.Errorf("create destination: %w", err)
	}
	return out, nil
}

// UpdateDestination replaces a destination's settings; see store.DestinationStore.
func (s *Store) UpdateDestination(ctx context.Context, d store.TenantDestination) (store.TenantDestination, error) {
	if err := d.Validate(); err != nil {
		return store.TenantDestination{}, fmt.Errorf("update destination: %w", err)
	}
	eventTypes, err := encodeEventTypes(d.EventTypes)
	if err != nil {
		return store.TenantDestination{}, fmt.Errorf("update destination: %w", err)
	}
	out, err := scanDestination(s.write.QueryRowContext(ctx, `UPDATE notification_config
		SET channel = ?3, config = ?4, event_types = ?5, enabled = ?6, updated_at = ?7
		WHERE tenant_id = ?1 AND destination_id = ?2
		RETURNING `+destinationColumnList,
		d.Tenant, d.ID, d.Channel, nonNilBytes(d.Config), eventTypes, d.Enabled, formatTime(time.Now())))
	if err != nil {
		return store.TenantDestination{}, fmt.Errorf("update destination: %w", notFound(err, d.Tenant, d.ID))
	}
	return out, nil
}

// Destination returns one of the tenant's destinations; see store.DestinationStore.
func (s *Store) Destination(ctx context.Context, tenant, id string) (store.TenantDestination, error) {
	out, err := scanDestination(s.read.QueryRowContext(ctx, `SELECT `+destinationColumnList+
		` FROM notification_config WHERE tenant_id = ? AND destination_id = ?`, tenant, id))
	if err != nil {
		return store.TenantDestination{}, fmt.Errorf("get destination: %w", notFound(err, tenant, id))
	}
	return out, nil
}

// ListDestinations lists the tenant's destinations, or every tenant's for tenant "", in
// byte order of tenant then ID (SQLite's BINARY collation); see store.DestinationStore.
func (s *Store) ListDestinations(ctx context.Context, tenant string) ([]store.TenantDestination, error) {
	query := `SELECT ` + destinationColumnList + ` FROM notification_config`
	var args []any
	if tenant != "" {
		query += ` WHERE tenant_id = ?`
		args = append(args, tenant)
	}
	rows, err := s.read.QueryContext(ctx, query+` ORDER BY tenant_id, destination_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	defer rows.Close()
	out := []store.TenantDestination{}
	for rows.Next() {
		d, err := scanDestination(rows)
		if err != nil {
			return nil, fmt.Errorf("list destinations: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list destinations: %w", err)
	}
	return out, nil
}

// DeleteDestination removes one of the tenant's destinations; see store.DestinationStore.
func (s *Store) DeleteDestination(ctx context.Context, tenant, id string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM notification_config
		WHERE tenant_id = ? AND destination_id = ?`, tenant, id)
	var n int64
	if err == nil {
		n, err = res.RowsAffected()
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("destination %q of tenant %q: %w", id, tenant, store.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete destination: %w", err)
	}
	return nil
}

// SetEnabled enables or disables one of the tenant's destinations; see
// store.DestinationStore.
func (s *Store) SetEnabled(ctx context.Context, tenant, id string, enabled bool) (store.TenantDestination, error) {
	out, err := scanDestination(s.write.QueryRowContext(ctx, `UPDATE notification_config
		SET enabled = ?3, updated_at = ?4 WHERE tenant_id = ?1 AND destination_id = ?2
		RETURNING `+destinationColumnList, tenant, id, enabled, formatTime(time.Now())))
	if err != nil {
		return store.TenantDestination{}, fmt.Errorf("set destination enabled: %w", notFound(err, tenant, id))
	}
	return out, nil
}

// notFound turns sql.ErrNoRows into an error wrapping store.ErrNotFound.
func notFound(err error, tenant, id string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("destination %q of tenant %q: %w", id, tenant, store.ErrNotFound)
	}
	return err
}

// encodeEventTypes renders event types as the column's JSON array; nil is an empty array.
func encodeEventTypes(types []string) (string, error) {
	if types == nil {
		types = []string{}
	}
	b, err := json.Marshal(types)
	if err != nil {
		return "", fmt.Errorf("encode event types: %w", err)
	}
	return string(b), nil
}

// nonNilBytes returns b, or an empty slice for nil, so that an empty config is stored as an
// empty BLOB rather than NULL, which the column refuses.
func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// scanDestination reads one destination row from a *sql.Row or *sql.Rows.
func scanDestination(row interface{ Scan(...any) error }) (store.TenantDestination, error) {
	var (
		d                            store.TenantDestination
		eventTypes, created, updated string
	)
	err := row.Scan(&d.Tenant, &d.ID, &d.Channel, &d.Config, &eventTypes, &d.Enabled, &created, &updated)
	if err != nil {
		return store.TenantDestination{}, err
	}
	if err := json.Unmarshal([]byte(eventTypes), &d.EventTypes); err != nil {
		return store.TenantDestination{}, fmt.Errorf("stored event types: %w", err)
	}
	if d.EventTypes == nil {
		d.EventTypes = []string{}
	}
	d.Config = nonNilBytes(d.Config)
	if d.CreatedAt, err = parseTime(created); err != nil {
		return store.TenantDestination{}, err
	}
	if d.UpdatedAt, err = parseTime(updated); err != nil {
		return store.TenantDestination{}, err
	}
	return d, nil
}
