package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
)

var _ store.HistoryStore = (*Store)(nil)

// Page lists the deliveries q selects, newest first; see store.HistoryStore.
func (s *Store) Page(ctx context.Context, q store.Query) ([]store.Delivery, error) {
	where, args := q.Where(placeholder, func(t time.Time) any { return t })
	args = append(args, q.RowLimit())
	query := "SELECT " + deliveryColumnList + " FROM notification_deliveries" + where +
		" ORDER BY created_at DESC, delivery_id DESC LIMIT " + placeholder(len(args))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, s.wrap("page deliveries", err)
	}
	out, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, s.wrap("page deliveries", err)
	}
	return out, nil
}

// settleDead updates the letters given as arrays of ids and attempt counts in one
// statement. Only rows still on the dead list at exactly the selected count change.
const settleDead = `
UPDATE notification_deliveries AS d SET
	status = CASE WHEN $4 THEN 'pending' ELSE d.status END,
	dead_settled_attempts = d.attempts,
	dead_settled_at = $3,
	updated_at = GREATEST(d.updated_at, $3)
FROM unnest($1::text[], $2::int[]) AS l(delivery_id, attempts)
WHERE d.delivery_id = l.delivery_id AND d.attempts = l.attempts
	AND d.status IN ('dead', 'failed') AND d.attempts > COALESCE(d.dead_settled_attempts, -1)`

// SettleDead takes dead letters off the dead list; see store.HistoryStore.
func (s *Store) SettleDead(ctx context.Context, how store.SettleStatus, letters []store.Settle, at time.Time) (int, error) {
	if len(letters) == 0 {
		return 0, nil
	}
	ids, attempts := make([]string, len(letters)), make([]int32, len(letters))
	for i, l := range letters {
		ids[i], attempts[i] = l.DeliveryID, int32(l.Attempts)
	}
	tag, err := s.pool.Exec(ctx, settleDead, ids, attempts, at.UTC().Truncate(store.TimePrecision), how == store.SettleRedriven)
	if err != nil {
		return 0, s.wrap("settle dead letters", err)
	}
	return int(tag.RowsAffected()), nil
}

// Health returns the status figures per destination; see store.HistoryStore.
func (s *Store) Health(ctx context.Context, since5, since60, deadSince time.Time) ([]store.Health, error) {
	rows, err := s.pool.Query(ctx, store.HealthSQL(placeholder), since5, since60, deadSince)
	if err != nil {
		return nil, s.wrap("destination health", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Health, error) {
		var h store.Health
		err := row.Scan(&h.Channel, &h.Destination, &h.Finished5m, &h.Delivered5m, &h.Finished60m, &h.Delivered60m, &h.DeadLetters)
		return h, err
	})
	if err != nil {
		return nil, s.wrap("destination health", err)
	}
	return out, nil
}
