package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

var _ store.HistoryStore = (*Store)(nil)

// Page lists the deliveries q selects, newest first; see store.HistoryStore.
func (s *Store) Page(ctx context.Context, q store.Query) (_ []store.Delivery, err error) {
	where, args := q.Where(func(int) string { return "?" }, func(t time.Time) any { return formatTime(t) })
	query := "SELECT " + deliveryColumnList + " FROM notification_deliveries" + where +
		" ORDER BY created_at DESC, delivery_id DESC LIMIT ?"
	args = append(args, q.RowLimit())
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("page deliveries: %w", err)
	}
	defer rows.Close()
	out := []store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("page deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("page deliveries: %w", err)
	}
	return out, nil
}

// settleDead is store/postgres's statement for one letter.
const settleDead = `
UPDATE notification_deliveries SET
	status = CASE WHEN ? THEN 'pending' ELSE status END,
	dead_settled_attempts = attempts,
	dead_settled_at = ?,
	updated_at = max(updated_at, ?)
WHERE delivery_id = ? AND attempts = ?
	AND status IN ('dead', 'failed') AND attempts > COALESCE(dead_settled_attempts, -1)`

// SettleDead takes dead letters off the dead list; see store.HistoryStore.
func (s *Store) SettleDead(ctx context.Context, how store.SettleStatus, letters []store.Settle, at time.Time) (n int, err error) {
	if len(letters) == 0 {
		return 0, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("settle dead letters: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	stmt, err := tx.PrepareContext(ctx, settleDead)
	if err != nil {
		return 0, fmt.Errorf("settle dead letters: %w", err)
	}
	defer stmt.Close()
	when := formatTime(at)
	for _, l := range letters {
		res, err := stmt.ExecContext(ctx, how == store.SettleRedriven, when, when, l.DeliveryID, l.Attempts)
		if err != nil {
			return 0, fmt.Errorf("settle dead letter %q: %w", l.DeliveryID, err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("settle dead letter %q: %w", l.DeliveryID, err)
		}
		n += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("settle dead letters: %w", err)
	}
	return n, nil
}

// Health returns the status figures per destination; see store.HistoryStore.
func (s *Store) Health(ctx context.Context, since5, since60, deadSince time.Time) ([]store.Health, error) {
	rows, err := s.read.QueryContext(ctx, store.HealthSQL(func(int) string { return "?" }),
		formatTime(since5), formatTime(since5), formatTime(since60), formatTime(deadSince))
	if err != nil {
		return nil, fmt.Errorf("destination health: %w", err)
	}
	defer rows.Close()
	out := []store.Health{}
	for rows.Next() {
		var h store.Health
		if err := rows.Scan(&h.Channel, &h.Destination, &h.Finished5m, &h.Delivered5m, &h.Finished60m, &h.Delivered60m, &h.DeadLetters); err != nil {
			return nil, fmt.Errorf("destination health: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("destination health: %w", err)
	}
	return out, nil
}
