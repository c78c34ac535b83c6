package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

const deliveryColumnList = `delivery_id, event_id, tenant_id, event_type, channel, destination,
	status, attempts, last_error, created_at, updated_at`

// Deliveries lists deliveries matching f, newest first; see store.Filter for the limit.
func (s *Store) Deliveries(ctx context.Context, f store.Filter) (_ []store.Delivery, err error) {
	where, args := f.Where(func(int) string { return "?" }, func(t time.Time) any { return formatTime(t) })
	query := "SELECT " + deliveryColumnList + " FROM notification_deliveries" + where +
		" ORDER BY created_at DESC, delivery_id DESC LIMIT ?"
	args = append(args, f.RowLimit())

	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	out := []store.Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// Delivery returns one delivery and its attempts, oldest first, read in one transaction so
// that the two agree. It returns an error wrapping store.ErrNotFound when there is none.
func (s *Store) Delivery(ctx context.Context, deliveryID string) (store.Delivery, []store.Attempt, error) {
	d, attempts, err := s.delivery(ctx, deliveryID)
	if err != nil {
		return store.Delivery{}, nil, fmt.Errorf("get delivery: %w", err)
	}
	return d, attempts, nil
}

func (s *Store) delivery(ctx context.Context, deliveryID string) (store.Delivery, []store.Attempt, error) {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.Delivery{}, nil, err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to commit

	d, err := scanDelivery(tx.QueryRowContext(ctx, "SELECT "+deliveryColumnList+
		" FROM notification_deliveries WHERE delivery_id = ?", deliveryID))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Delivery{}, nil, fmt.Errorf("delivery %q: %w", deliveryID, store.ErrNotFound)
	}
	if err != nil {
		return store.Delivery{}, nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT delivery_id, attempt, status, error, http_status,
		duration_ms, attempted_at FROM notification_attempts
		WHERE delivery_id = ? ORDER BY attempt`, deliveryID)
	if err != nil {
		return store.Delivery{}, nil, err
	}
	defer rows.Close()
	attempts := []store.Attempt{}
	for rows.Next() {
		var (
			a          store.Attempt
			status, at string
		)
		if err := rows.Scan(&a.DeliveryID, &a.Attempt, &status, &a.Error, &a.HTTPStatus, &a.DurationMS, &at); err != nil {
			return store.Delivery{}, nil, err
		}
		a.Status = store.Status(status)
		if a.At, err = parseTime(at); err != nil {
			return store.Delivery{}, nil, err
		}
		attempts = append(attempts, a)
	}
	if err := rows.Err(); err != nil {
		return store.Delivery{}, nil, err
	}
	return d, attempts, nil
}

// Counts groups the deliveries created at or after since by event type, channel and status,
// ordered by those three. A zero since counts every delivery.
func (s *Store) Counts(ctx context.Context, since time.Time) ([]store.Count, error) {
	query := `SELECT event_type, channel, status, COUNT(*) FROM notification_deliveries`
	var args []any
	if !since.IsZero() {
		query += ` WHERE created_at >= ?`
		args = append(args, formatTime(since))
	}
	query += ` GROUP BY event_type, channel, status ORDER BY event_type, channel, status`
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	out := []store.Count{}
	for rows.Next() {
		var (
			c      store.Count
			status string
		)
		if err := rows.Scan(&c.EventType, &c.Channel, &status, &c.Count); err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		c.Status = store.Status(status)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return out, nil
}

// scanDelivery reads one delivery row from a *sql.Row or *sql.Rows.
func scanDelivery(row interface{ Scan(...any) error }) (store.Delivery, error) {
	var (
		d                        store.Delivery
		status, created, updated string
	)
	err := row.Scan(&d.DeliveryID, &d.EventID, &d.TenantID, &d.EventType, &d.Channel,
		&d.Destination, &status, &d.Attempts, &d.LastError, &created, &updated)
	if err != nil {
		return store.Delivery{}, err
	}
	d.Status = store.Status(status)
	if d.CreatedAt, err = parseTime(created); err != nil {
		return store.Delivery{}, err
	}
	if d.UpdatedAt, err = parseTime(updated); err != nil {
		return store.Delivery{}, err
	}
	return d, nil
}
