package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

var (
	_ store.StatsStore   = (*Store)(nil)
	_ store.TenantsStore = (*Store)(nil)
)

// statsEpoch is updated_at (fixed-width RFC 3339 text) in whole seconds since 1970;
// statsStatus is status behind SQLite's unary +, which keeps a term from choosing an index,
// so that the range of the covering index on updated_at is read rather than every delivered
// row through the index on (status, created_at).
const (
	statsEpoch  = `CAST(strftime('%s', updated_at) AS INTEGER)`
	statsStatus = `+status`
)

// Stats implements store.StatsStore: one statement over notification_deliveries_updated_idx,
// whose text times compare in time order.
func (s *Store) Stats(ctx context.Context, q store.StatsQuery) ([]store.StatsCount, error) {
	since, step := q.Since.Unix(), int64(q.Step/time.Second)
	args := []any{since, step, formatTime(time.Unix(since, 0)), formatTime(q.Until)}
	if q.Channel != "" {
		args = append(args, q.Channel)
	}
	rows, err := s.read.QueryContext(ctx, store.StatsSQL(func(int) string { return "?" }, statsEpoch, statsStatus, q.Channel != ""), args...)
	if err != nil {
		return nil, fmt.Errorf("delivery stats: %w", err)
	}
	defer rows.Close()
	out := []store.StatsCount{}
	for rows.Next() {
		var (
			c store.StatsCount
			n int64
		)
		if err := rows.Scan(&c.Channel, &c.Status, &n, &c.Count); err != nil {
			return nil, fmt.Errorf("delivery stats: %w", err)
		}
		c.At = time.Unix(since+n*step, 0).UTC()
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delivery stats: %w", err)
	}
	return out, nil
}

// Tenants implements store.TenantsStore.
func (s *Store) Tenants(ctx context.Context) ([]store.TenantCount, error) {
	rows, err := s.read.QueryContext(ctx, store.TenantsSQL)
	if err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	defer rows.Close()
	out := []store.TenantCount{}
	for rows.Next() {
		var c store.TenantCount
		if err := rows.Scan(&c.Tenant, &c.Destinations, &c.Keys); err != nil {
			return nil, fmt.Errorf("tenants: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tenants: %w", err)
	}
	return out, nil
}
