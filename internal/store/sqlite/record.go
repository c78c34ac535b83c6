package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// takeIncoming is true when an incoming result replaces the stored status and last error: it
// is a later attempt, or the same attempt with a terminal status where the stored one is not.
const takeIncoming = `(excluded.attempts > d.attempts OR (excluded.attempts = d.attempts
	AND excluded.status IN ('delivered', 'failed', 'dead')
	AND d.status NOT IN ('delivered', 'failed', 'dead')))`

// upsertDelivery is store/postgres's statement for one row; max and min of two arguments are
// SQLite's GREATEST and LEAST, and work on the fixed-width time text.
const upsertDelivery = `
INSERT INTO notification_deliveries AS d
	(delivery_id, event_id, tenant_id, event_type, channel, destination,
	 status, attempts, last_error, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (delivery_id) DO UPDATE SET
	status     = CASE WHEN ` + takeIncoming + ` THEN excluded.status ELSE d.status END,
	last_error = CASE WHEN ` + takeIncoming + ` THEN excluded.last_error ELSE d.last_error END,
	attempts   = max(d.attempts, excluded.attempts),
	created_at = min(d.created_at, excluded.created_at),
	updated_at = max(d.updated_at, excluded.updated_at)
WHERE ` + takeIncoming + `
	OR excluded.created_at < d.created_at
	OR excluded.updated_at > d.updated_at`

const insertAttempt = `
INSERT INTO notification_attempts
	(delivery_id, attempt, status, error, http_status, duration_ms, attempted_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (delivery_id, attempt) DO NOTHING`

// Record writes a batch of results in one transaction; see store.Store. A result without a
// time is stamped with the current time. A malformed result (no delivery id, a negative
// attempt, an unknown status) fails the whole batch before anything is written.
func (s *Store) Record(ctx context.Context, results []store.Result) error {
	if len(results) == 0 {
		return nil
	}
	b, err := newBatch(results, time.Now())
	if err != nil {
		return fmt.Errorf("record results: %w", err)
	}
	if err := s.record(ctx, b); err != nil {
		return fmt.Errorf("record results: %w", err)
	}
	return nil
}

func (s *Store) record(ctx context.Context, b batch) (err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, ignoreDone(tx.Rollback()))
		}
	}()
	upsert, err := tx.PrepareContext(ctx, upsertDelivery)
	if err != nil {
		return err
	}
	defer upsert.Close()
	for _, d := range b.deliveries {
		_, err := upsert.ExecContext(ctx, d.DeliveryID, d.EventID, d.TenantID, d.EventType,
			d.Channel, d.Destination, string(d.Status), d.Attempt, d.Error,
			formatTime(d.firstAt), formatTime(d.lastAt))
		if err != nil {
			return fmt.Errorf("delivery %q: %w", d.DeliveryID, err)
		}
	}
	insert, err := tx.PrepareContext(ctx, insertAttempt)
	if err != nil {
		return err
	}
	defer insert.Close()
	for _, a := range b.attempts {
		_, err := insert.ExecContext(ctx, a.DeliveryID, a.Attempt, string(a.Status), a.Error,
			a.HTTPStatus, a.DurationMS, formatTime(a.At))
		if err != nil {
			return fmt.Errorf("attempt %d of %q: %w", a.Attempt, a.DeliveryID, err)
		}
	}
	return tx.Commit()
}

// ignoreDone drops the error of rolling back a transaction that has already ended.
func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}
