package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
)

const deliveryColumnList = `delivery_id, event_id, tenant_id, event_type, channel, destination,
	status, attempts, last_error, created_at, updated_at`

// Deliveries lists deliveries matching f, newest first; see store.Filter for the limit.
func (s *Store) Deliveries(ctx context.Context, f store.Filter) ([]store.Delivery, error) {
	where, args := f.Where(placeholder, func(t time.Time) any { return t })
	args = append(args, f.RowLimit())
	query := "SELECT " + deliveryColumnList + " FROM notification_deliveries" + where +
		" ORDER BY created_at DESC, delivery_id DESC LIMIT " + placeholder(len(args))

	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, s.wrap("list deliveries", err)
	}
	out, err := pgx.CollectRows(rows, scanDelivery)
	if err != nil {
		return nil, s.wrap("list deliveries", err)
	}
	return out, nil
}

// Delivery returns one delivery and its attempts, oldest first, read from one snapshot so
// that the two agree. It returns an error wrapping store.ErrNotFound when there is none.
func (s *Store) Delivery(ctx context.Context, deliveryID string) (store.Delivery, []store.Attempt, error) {
	var (
		d        store.Delivery
		attempts []store.Attempt
	)
	opts := pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}
	err := pgx.BeginTxFunc(ctx, s.pool, opts, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+deliveryColumnList+
			" FROM notification_deliveries WHERE delivery_id = $1", deliveryID)
		if err != nil {
			return err
		}
		d, err = pgx.CollectExactlyOneRow(rows, scanDelivery)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("delivery %q: %w", deliveryID, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT delivery_id, attempt, status, error, http_status,
			duration_ms, attempted_at FROM notification_attempts
			WHERE delivery_id = $1 ORDER BY attempt`, deliveryID)
		if err != nil {
			return err
		}
		attempts, err = pgx.CollectRows(rows, scanAttempt)
		return err
	})
	if err != nil {
		return store.Delivery{}, nil, s.wrap("get delivery", err)
	}
	return d, attempts, nil
}

// Counts groups the deliveries created at or after since by event type, channel and status,
// ordered by those three. A zero since counts every delivery.
func (s *Store) Counts(ctx context.Context, since time.Time) ([]store.Count, error) {
	query := `SELECT event_type, channel, status, COUNT(*) FROM notification_deliveries`
	var args []any
	if !since.IsZero() {
		query += ` WHERE created_at >= $1`
		args = append(args, since)
	}
	query += ` GROUP BY event_type, channel, status ORDER BY event_type, channel, status`
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, s.wrap("count deliveries", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Count, error) {
		var (
			c      store.Count
			status string
		)
		err := row.Scan(&c.EventType, &c.Channel, &status, &c.Count)
		c.Status = store.Status(status)
		return c, err
	})
	if err != nil {
		return nil, s.wrap("count deliveries", err)
	}
	return out, nil
}

// placeholder is PostgreSQL's nth query argument, for store.Filter.Where.
func placeholder(n int) string { return "$" + strconv.Itoa(n) }

func scanDelivery(row pgx.CollectableRow) (store.Delivery, error) {
	var (
		d      store.Delivery
		status string
	)
	err := row.Scan(&d.DeliveryID, &d.EventID, &d.TenantID, &d.EventType, &d.Channel,
		&d.Destination, &status, &d.Attempts, &d.LastError, &d.CreatedAt, &d.UpdatedAt)
	d.Status = store.Status(status)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

func scanAttempt(row pgx.CollectableRow) (store.Attempt, error) {
	var (
		a      store.Attempt
		status string
	)
	err := row.Scan(&a.DeliveryID, &a.Attempt, &status, &a.Error, &a.HTTPStatus, &a.DurationMS, &a.At)
	a.Status = store.Status(status)
	a.At = a.At.UTC()
	return a, err
}
