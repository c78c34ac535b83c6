package store

import (
	"strings"
	"time"
)

// The bounds of Filter.Limit, as its documentation states them.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// RowLimit returns f.Limit with its documented default and maximum applied.
func (f Filter) RowLimit() int {
	switch {
	case f.Limit <= 0:
		return defaultLimit
	case f.Limit > maxLimit:
		return maxLimit
	}
	return f.Limit
}

// Where renders the conditions of f on notification_deliveries as an SQL WHERE clause
// (" WHERE tenant_id = $1 AND ...", or "" when f selects every delivery) and its arguments,
// in order. The limit is not part of it; see RowLimit. placeholder renders the nth argument,
// counted from 1, in the database's style ("$1" for PostgreSQL, "?" for SQLite), and timeArg
// encodes Since as the database stores times.
func (f Filter) Where(placeholder func(n int) string, timeArg func(time.Time) any) (string, []any) {
	var (
		where []string
		args  []any
	)
	add := func(column, op string, v any) {
		args = append(args, v)
		where = append(where, column+" "+op+" "+placeholder(len(args)))
	}
	if f.TenantID != "" {
		add("tenant_id", "=", f.TenantID)
	}
	if f.EventType != "" {
		add("event_type", "=", f.EventType)
	}
	if f.Channel != "" {
		add("channel", "=", f.Channel)
	}
	if f.Status != "" {
		add("status", "=", string(f.Status))
	}
	if f.EventID != "" {
		add("event_id", "=", f.EventID)
	}
	if !f.Since.IsZero() {
		add("created_at", ">=", timeArg(f.Since))
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}
