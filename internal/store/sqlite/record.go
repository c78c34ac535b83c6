package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// upsertDelivery writes one delivery, as store/postgres does a batch of them; max and min of
// two arguments are SQLite's GREATEST and LEAST, and work on the fixed-width time text.
var upsertDelivery = store.UpsertDeliverySQL("VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "max", "min")

const insertAttempt = `
INSERT INTO notification_attempts
	(delivery_id, attempt, status, error, http_status, duration_ms, attempted_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (delivery_id, attempt) DO NOTHING`

// Record writes a batch of results in one transaction; see store.Store. The batch is first
// validated and collapsed by store.Collapse, so that a malformed result fails it whole before
// anything is written.
func (s *Store) Record(ctx context.Context, results []store.Result) error {
	if len(results) == 0 {
		return nil
	}
	b, err := store.Collapse(results, time.Now())
	if err != nil {
		return fmt.Errorf("record results: %w", err)
	}
	if err := s.record(ctx, b); err != nil {
		return fmt.Errorf("record results: %w", err)
	}
	return nil
}

func (s *Store) record(ctx context.Context, b store.Batch) (err error) {
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
	for _, d := range b.Deliveries {
		_, err := upsert.ExecContext(ctx, d.DeliveryID, d.EventID, d.TenantID, d.EventType,
			d.Channel, d.Destination, string(d.Status), d.Attempt, d.Error,
			formatTime(d.FirstAt), formatTime(d.LastAt))
		if err != nil {
			return fmt.Errorf("delivery %q: %w", d.DeliveryID, err)
		}
	}
	insert, err := tx.PrepareContext(ctx, insertAttempt)
	if err != nil {
		return err
	}
	defer insert.Close()
	for _, a := range b.Attempts {
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
