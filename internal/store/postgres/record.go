package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/store"
)

// upsertDeliveries writes one row per delivery from column arrays. Skipping the rows the
// batch does not change means that duplicates leave no dead tuples behind.
var upsertDeliveries = store.UpsertDeliverySQL(`SELECT * FROM unnest(
	$1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
	$7::text[], $8::int[], $9::text[], $10::timestamptz[], $11::timestamptz[])`, "GREATEST", "LEAST")

// insertAttempts writes one row per attempt; an attempt already recorded stays as it was.
const insertAttempts = `
INSERT INTO notification_attempts
	(delivery_id, attempt, status, error, http_status, duration_ms, attempted_at)
SELECT * FROM unnest(
	$1::text[], $2::int[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::timestamptz[])
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
		return s.wrap("record results", err)
	}
	var q pgx.Batch
	q.Queue(upsertDeliveries, deliveryColumns(b.Deliveries)...)
	if len(b.Attempts) > 0 {
		q.Queue(insertAttempts, attemptColumns(b.Attempts)...)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, &q).Close()
	})
	if err != nil {
		return s.wrap("record results", err)
	}
	return nil
}

// deliveryColumns turns rows into the column arrays of upsertDeliveries.
func deliveryColumns(rows []store.DeliveryUpdate) []any {
	n := len(rows)
	var (
		ids, events, tenants = make([]string, n), make([]string, n), make([]string, n)
		types, channels      = make([]string, n), make([]string, n)
		dests, statuses      = make([]string, n), make([]string, n)
		errs                 = make([]string, n)
		attempts             = make([]int32, n)
		created, updated     = make([]time.Time, n), make([]time.Time, n)
	)
	for i, r := range rows {
		ids[i], events[i], tenants[i] = r.DeliveryID, r.EventID, r.TenantID
		types[i], channels[i], dests[i] = r.EventType, r.Channel, r.Destination
		statuses[i], attempts[i], errs[i] = string(r.Status), int32(r.Attempt), r.Error
		created[i], updated[i] = r.FirstAt, r.LastAt
	}
	return []any{ids, events, tenants, types, channels, dests, statuses, attempts, errs, created, updated}
}

// attemptColumns turns results into the column arrays of insertAttempts.
func attemptColumns(results []store.Result) []any {
	n := len(results)
	var (
		ids, statuses, errs = make([]string, n), make([]string, n), make([]string, n)
		attempts, codes     = make([]int32, n), make([]int32, n)
		durations           = make([]int64, n)
		at                  = make([]time.Time, n)
	)
	for i, r := range results {
		ids[i], attempts[i], statuses[i], errs[i] = r.DeliveryID, int32(r.Attempt), string(r.Status), r.Error
		codes[i], durations[i], at[i] = int32(r.HTTPStatus), r.DurationMS, r.At
	}
	return []any{ids, attempts, statuses, errs, codes, durations, at}
}
