package postgres

// This file is the same in store/postgres and store/sqlite but for the package clause (a
// test in store/sqlite checks): the two stores must agree on how a batch collapses.

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// timePrecision is the precision the database keeps; times are truncated to it in Go so that
// what is compared in Go is what is stored.
const timePrecision = time.Microsecond

// deliveryRow is the upsert of one delivery: the result that wins within the batch, and the
// earliest and latest times of all the batch's results for it.
type deliveryRow struct {
	store.Result
	firstAt, lastAt time.Time
}

// batch is a validated batch of results, ready for set-based statements.
type batch struct {
	deliveries []deliveryRow  // one per delivery, ordered by DeliveryID
	attempts   []store.Result // one per (DeliveryID, Attempt > 0), ordered by both
}

// newBatch validates results and collapses them: per delivery, the highest attempt wins and,
// on equal attempts, a terminal status wins over a non-terminal one (else the first seen
// stays); per (delivery, attempt), the first result seen is the attempt's row. Results with
// a zero At are stamped now. Both lists are in key order, so that concurrent writers lock
// rows in the same order.
func newBatch(results []store.Result, now time.Time) (batch, error) {
	var b batch
	index := make(map[string]int, len(results))
	b.attempts = make([]store.Result, 0, len(results))
	for i, r := range results {
		if err := validate(r); err != nil {
			return batch{}, fmt.Errorf("result %d (delivery %q, attempt %d): %w", i, r.DeliveryID, r.Attempt, err)
		}
		if r.At.IsZero() {
			r.At = now
		}
		r.At = r.At.UTC().Truncate(timePrecision)
		if r.Attempt > 0 {
			b.attempts = append(b.attempts, r)
		}
		j, seen := index[r.DeliveryID]
		if !seen {
			index[r.DeliveryID] = len(b.deliveries)
			b.deliveries = append(b.deliveries, deliveryRow{Result: r, firstAt: r.At, lastAt: r.At})
			continue
		}
		d := &b.deliveries[j]
		if r.At.Before(d.firstAt) {
			d.firstAt = r.At
		}
		if r.At.After(d.lastAt) {
			d.lastAt = r.At
		}
		winner, loser := d.Result, r
		if wins(r, d.Result) {
			winner, loser = r, d.Result
		}
		d.Result = fillIdentity(winner, loser)
	}
	slices.SortFunc(b.deliveries, func(x, y deliveryRow) int { return cmp.Compare(x.DeliveryID, y.DeliveryID) })
	slices.SortStableFunc(b.attempts, compareAttempt)
	b.attempts = slices.CompactFunc(b.attempts, func(x, y store.Result) bool { return compareAttempt(x, y) == 0 })
	return b, nil
}

// wins reports whether result r replaces cur as the state of its delivery.
func wins(r, cur store.Result) bool {
	return r.Attempt > cur.Attempt ||
		(r.Attempt == cur.Attempt && r.Status.Terminal() && !cur.Status.Terminal())
}

// fillIdentity completes the winner's description of the delivery from another result, in
// case a producer left a field empty.
func fillIdentity(winner, other store.Result) store.Result {
	winner.EventID = cmp.Or(winner.EventID, other.EventID)
	winner.TenantID = cmp.Or(winner.TenantID, other.TenantID)
	winner.EventType = cmp.Or(winner.EventType, other.EventType)
	winner.Channel = cmp.Or(winner.Channel, other.Channel)
	winner.Destination = cmp.Or(winner.Destination, other.Destination)
	return winner
}

func compareAttempt(x, y store.Result) int {
	return cmp.Or(cmp.Compare(x.DeliveryID, y.DeliveryID), cmp.Compare(x.Attempt, y.Attempt))
}

// validate rejects a result the ledger cannot hold. The batch fails whole: the recorder
// decides what to do with a malformed result, not the store.
func validate(r store.Result) error {
	switch {
	case r.DeliveryID == "":
		return fmt.Errorf("empty delivery id")
	case r.Attempt < 0 || r.Attempt > math.MaxInt32:
		return fmt.Errorf("attempt out of range")
	case r.HTTPStatus < 0 || r.HTTPStatus > math.MaxInt32:
		return fmt.Errorf("http status %d out of range", r.HTTPStatus)
	}
	switch r.Status {
	case store.StatusPending, store.StatusRetrying, store.StatusDelivered, store.StatusFailed, store.StatusDead:
		return nil
	}
	return fmt.Errorf("unknown status %q", r.Status)
}

// clampLimit applies store.Filter's documented default and maximum.
func clampLimit(n int) int {
	const defaultLimit, maxLimit = 100, 1000
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}
