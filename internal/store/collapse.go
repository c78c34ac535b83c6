package store

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// TimePrecision is the precision both stores keep times to (PostgreSQL's timestamptz, and the
// fixed-width text of store/sqlite). Collapse truncates times to it in Go, so that what is
// compared in Go is what is stored.
const TimePrecision = time.Microsecond

// supersedesSQL is supersedes as an SQL condition in an upsert of notification_deliveries
// aliased d: true when the incoming row (excluded) replaces the stored status and last error,
// because it is a later attempt, or the same attempt with a terminal status where the stored
// one is not.
const supersedesSQL = `(excluded.attempts > d.attempts OR (excluded.attempts = d.attempts
	AND excluded.status IN ('delivered', 'failed', 'dead')
	AND d.status NOT IN ('delivered', 'failed', 'dead')))`

// UpsertDeliverySQL returns the statement with which both stores write DeliveryUpdates into
// notification_deliveries. rows is the dialect's source of the incoming rows (a VALUES list,
// a SELECT from arrays), with the columns delivery_id, event_id, tenant_id, event_type,
// channel, destination, status, attempts, last_error, created_at (FirstAt) and updated_at
// (LastAt), in that order. A stored row and an incoming one merge by the rule Collapse applies
// within a batch, so that batches may be written in any order; rows the incoming one does not
// change (a redelivered result) are not written at all. greatest and least name the dialect's
// maximum and minimum of two values: GREATEST and LEAST in PostgreSQL, max and min in SQLite.
func UpsertDeliverySQL(rows, greatest, least string) string {
	return `
INSERT INTO notification_deliveries AS d
	(delivery_id, event_id, tenant_id, event_type, channel, destination,
	 status, attempts, last_error, created_at, updated_at)
` + rows + `
ON CONFLICT (delivery_id) DO UPDATE SET
	status     = CASE WHEN ` + supersedesSQL + ` THEN excluded.status ELSE d.status END,
	last_error = CASE WHEN ` + supersedesSQL + ` THEN excluded.last_error ELSE d.last_error END,
	attempts   = ` + greatest + `(d.attempts, excluded.attempts),
	created_at = ` + least + `(d.created_at, excluded.created_at),
	updated_at = ` + greatest + `(d.updated_at, excluded.updated_at)
WHERE ` + supersedesSQL + `
	OR excluded.created_at < d.created_at
	OR excluded.updated_at > d.updated_at`
}

// DeliveryUpdate is what a batch writes of one delivery: the result that wins within the
// batch, and the earliest and latest times of all the batch's results for it.
type DeliveryUpdate struct {
	Result
	FirstAt, LastAt time.Time
}

// Batch is a validated batch of results, collapsed for set-based statements.
type Batch struct {
	// Deliveries holds one update per delivery, ordered by DeliveryID.
	Deliveries []DeliveryUpdate
	// Attempts holds one result per (DeliveryID, Attempt > 0), ordered by both.
	Attempts []Result
}

// Collapse validates results and collapses them as Store.Record documents: per delivery, the
// highest attempt wins and, on equal attempts, a terminal status wins over a non-terminal one
// (else the first seen stays); per (delivery, attempt), the first result seen is the
// attempt's row. Results with a zero At are stamped now, and every time is made UTC and
// truncated to TimePrecision. Both lists are in key order, so that concurrent writers lock
// rows in the same order.
//
// One malformed result (see ValidateResult) fails the whole batch: the recorder decides what
// to do with it, not the store.
func Collapse(results []Result, now time.Time) (Batch, error) {
	var b Batch
	index := make(map[string]int, len(results))
	b.Attempts = make([]Result, 0, len(results))
	for i, r := range results {
		if err := ValidateResult(r); err != nil {
			return Batch{}, fmt.Errorf("result %d (delivery %q, attempt %d): %w", i, r.DeliveryID, r.Attempt, err)
		}
		if r.At.IsZero() {
			r.At = now
		}
		r.At = r.At.UTC().Truncate(TimePrecision)
		if r.Attempt > 0 {
			b.Attempts = append(b.Attempts, r)
		}
		j, seen := index[r.DeliveryID]
		if !seen {
			index[r.DeliveryID] = len(b.Deliveries)
			b.Deliveries = append(b.Deliveries, DeliveryUpdate{Result: r, FirstAt: r.At, LastAt: r.At})
			continue
		}
		d := &b.Deliveries[j]
		if r.At.Before(d.FirstAt) {
			d.FirstAt = r.At
		}
		if r.At.After(d.LastAt) {
			d.LastAt = r.At
		}
		winner, loser := d.Result, r
		if supersedes(r, d.Result) {
			winner, loser = r, d.Result
		}
		d.Result = fillIdentity(winner, loser)
	}
	slices.SortFunc(b.Deliveries, func(x, y DeliveryUpdate) int { return cmp.Compare(x.DeliveryID, y.DeliveryID) })
	slices.SortStableFunc(b.Attempts, compareAttempt)
	b.Attempts = slices.CompactFunc(b.Attempts, func(x, y Result) bool { return compareAttempt(x, y) == 0 })
	return b, nil
}

// supersedes reports whether result r replaces cur as the state of its delivery; supersedesSQL
// is the same rule for the row already stored.
func supersedes(r, cur Result) bool {
	return r.Attempt > cur.Attempt ||
		(r.Attempt == cur.Attempt && r.Status.Terminal() && !cur.Status.Terminal())
}

// fillIdentity completes the winner's description of the delivery from another result, in
// case a producer left a field empty.
func fillIdentity(winner, other Result) Result {
	winner.EventID = cmp.Or(winner.EventID, other.EventID)
	winner.TenantID = cmp.Or(winner.TenantID, other.TenantID)
	winner.EventType = cmp.Or(winner.EventType, other.EventType)
	winner.Channel = cmp.Or(winner.Channel, other.Channel)
	winner.Destination = cmp.Or(winner.Destination, other.Destination)
	return winner
}

func compareAttempt(x, y Result) int {
	return cmp.Or(cmp.Compare(x.DeliveryID, y.DeliveryID), cmp.Compare(x.Attempt, y.Attempt))
}

// ValidateResult rejects a result the ledger cannot hold: one without a delivery id, with an
// attempt or HTTP status outside what the schema's integer columns take, or with a status
// that is not one of the Status constants.
func ValidateResult(r Result) error {
	switch {
	case r.DeliveryID == "":
		return fmt.Errorf("empty delivery id")
	case r.Attempt < 0 || r.Attempt > math.MaxInt32:
		return fmt.Errorf("attempt out of range")
	case r.HTTPStatus < 0 || r.HTTPStatus > math.MaxInt32:
		return fmt.Errorf("http status %d out of range", r.HTTPStatus)
	}
	switch r.Status {
	case StatusPending, StatusRetrying, StatusDelivered, StatusFailed, StatusDead:
		return nil
	}
	return fmt.Errorf("unknown status %q", r.Status)
}
