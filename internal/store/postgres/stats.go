package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
)

var (
	_ store.StatsStore   = (*Store)(nil)
	_ store.TenantsStore = (*Store)(nil)
)

// statsEpoch is updated_at in whole seconds since 1970; statsStatus is status as is: the
// planner prefers the range of the covering index by itself.
const (
	statsEpoch  = `CAST(floor(EXTRACT(EPOCH FROM updated_at)) AS bigint)`
	statsStatus = `status`
)

// Stats implements store.StatsStore: one statement over notification_deliveries_updated_idx.
func (s *Store) Stats(ctx context.Context, q store.StatsQuery) ([]store.StatsCount, error) {
	since, step := q.Since.Unix(), int64(q.Step/time.Second)
	args := []any{since, step, time.Unix(since, 0).UTC(), q.Until.UTC()}
	if q.Channel != "" {
		args = append(args, q.Channel)
	}
	rows, err := s.pool.Query(ctx, store.StatsSQL(placeholder, statsEpoch, statsStatus, q.Channel != ""), args...)
	if err != nil {
		return nil, s.wrap("delivery stats", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.StatsCount, error) {
		var (
			c store.StatsCount
			n int64
		)
		err := row.Scan(&c.Channel, &c.Status, &n, &c.Count)
		c.At = time.Unix(since+n*step, 0).UTC()
		return c, err
	})
	if err != nil {
		return nil, s.wrap("delivery stats", err)
	}
	if out == nil {
		out = []store.StatsCount{}
	}
	return out, nil
}

// Tenants implements store.TenantsStore.
func (s *Store) Tenants(ctx context.Context) ([]store.TenantCount, error) {
	rows, err := s.pool.Query(ctx, store.TenantsSQL)
	if err != nil {
		return nil, s.wrap("tenants", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.TenantCount, error) {
		var (
			c    store.TenantCount
			d, k int64
		)
		err := row.Scan(&c.Tenant, &d, &k)
		c.Destinations, c.Keys = int(d), int(k)
		return c, err
	})
	if err != nil {
		return nil, s.wrap("tenants", err)
	}
	if out == nil {
		out = []store.TenantCount{}
	}
	return out, nil
}
