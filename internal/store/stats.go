package store

import (
	"context"
	"time"
)

// StatsQuery selects the deliveries of the dashboard's charts: those whose latest status
// change (updated_at) falls in [Since, Until), counted per channel, status and step.
type StatsQuery struct {
	// Since is the start of the first step; Until the end of the window, exclusive. Only
	// whole seconds count.
	Since, Until time.Time
	// Step is the width of each step: a whole number of seconds, at least one.
	Step time.Duration
	// Channel keeps one channel's deliveries; empty keeps every channel's.
	Channel string
}

// StatsCount is one group of the charts' query: how many deliveries of a channel reached a
// status in the step that starts at At.
type StatsCount struct {
	Channel string
	Status  Status
	At      time.Time
	Count   int64
}

// StatsStore answers the dashboard's charts. Both store/postgres and store/sqlite implement
// it with one statement (StatsSQL) that reads the index on (updated_at, channel, status)
// alone.
type StatsStore interface {
	// Stats counts the deliveries q selects whose status is delivered, failed, dead or
	// retrying, grouped by channel, status and step; steps without any are left out.
	Stats(ctx context.Context, q StatsQuery) ([]StatsCount, error)
}

// StatsSQL is the charts' query. epoch is the dialect's expression of updated_at in whole
// seconds since 1970, and status its expression of status in the filter on it, written so
// that the planner does not take the filter as a reason to read the index on (status,
// created_at) instead: SQLite without statistics would, and would then read every row of
// those statuses ever recorded. The arguments are the window's start in whole seconds since
// 1970, the step in seconds, the start and the end of the window as times, and, with channel
// set, the channel, rendered by placeholder. Its columns are channel, status, the step's
// index from the start, and the count.
func StatsSQL(placeholder func(n int) string, epoch, status string, channel bool) string {
	q := `SELECT channel, status, (` + epoch + ` - ` + placeholder(1) + `) / ` + placeholder(2) + ` AS step, COUNT(*)
FROM notification_deliveries
WHERE updated_at >= ` + placeholder(3) + ` AND updated_at < ` + placeholder(4) + `
	AND ` + status + ` IN ('delivered', 'failed', 'dead', 'retrying')`
	if channel {
		q += ` AND channel = ` + placeholder(5)
	}
	return q + `
GROUP BY channel, status, step ORDER BY channel, step, status`
}

// TenantCount is one tenant the operator can manage: how many destinations it has and how
// many of its keys work.
type TenantCount struct {
	Tenant       string
	Destinations int
	Keys         int
}

// TenantsStore lists the tenants that have destinations or keys. Both store/postgres and
// store/sqlite implement it.
type TenantsStore interface {
	// Tenants returns every tenant with at least one destination or one key that is not
	// revoked, ordered by tenant (byte order); an empty, not nil, slice when there is none.
	Tenants(ctx context.Context) ([]TenantCount, error)
}

// TenantsSQL is the query of TenantsStore: one row per tenant, its destinations and its
// working keys.
const TenantsSQL = `SELECT tenant_id, CAST(SUM(d) AS BIGINT), CAST(SUM(k) AS BIGINT) FROM (
	SELECT tenant_id, COUNT(*) AS d, 0 AS k FROM notification_config GROUP BY tenant_id
	UNION ALL
	SELECT tenant_id, 0, COUNT(*) FROM notification_tenant_keys WHERE revoked_at IS NULL GROUP BY tenant_id
) AS t GROUP BY tenant_id ORDER BY tenant_id`
