package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// testRecord records batches of results for one delivery, "d1", and checks the delivery row
// and its attempt rows.
func testRecord(t *testing.T, newStore NewStore) {
	var (
		pending   = result("d1", 0, store.StatusPending, at(0))
		retry1    = failed(result("d1", 1, store.StatusRetrying, at(time.Second+123456*time.Microsecond)), 503, "service unavailable")
		retry2    = failed(result("d1", 2, store.StatusRetrying, at(3*time.Second)), 500, "internal error")
		delivered = result("d1", 2, store.StatusDelivered, at(4*time.Second))
		dead2     = failed(result("d1", 2, store.StatusDead, at(4*time.Second)), 500, "attempts exhausted")
		done3     = result("d1", 3, store.StatusDelivered, at(5*time.Second))
	)
	delivered.HTTPStatus, delivered.DurationMS = 200, 42
	// want builds the expected delivery row.
	want := func(status store.Status, attempts int, lastError string, created, updated time.Time) store.Delivery {
		return store.Delivery{
			DeliveryID: "d1", EventID: "evt-d1", TenantID: "tenant-a", EventType: "payment.failed",
			Channel: "webhook", Destination: "https://example.com/hook",
			Status: status, Attempts: attempts, LastError: lastError, CreatedAt: created, UpdatedAt: updated,
		}
	}
	// attempt builds the expected attempt row of a result.
	attempt := func(r store.Result) store.Attempt {
		return store.Attempt{DeliveryID: r.DeliveryID, Attempt: r.Attempt, Status: r.Status,
			Error: r.Error, HTTPStatus: r.HTTPStatus, DurationMS: r.DurationMS, At: r.At}
	}

	tests := []struct {
		name         string
		batches      [][]store.Result
		want         store.Delivery
		wantAttempts []store.Attempt
	}{
		{
			name:    "fan-out only",
			batches: [][]store.Result{{pending}},
			want:    want(store.StatusPending, 0, "", at(0), at(0)),
		},
		{
			name:         "read back in order",
			batches:      [][]store.Result{{pending}, {retry1}, {retry2}, {delivered}},
			want:         want(store.StatusDelivered, 2, "", at(0), delivered.At),
			wantAttempts: []store.Attempt{attempt(retry1), attempt(retry2)},
		},
		{
			name:         "failed attempt keeps its error",
			batches:      [][]store.Result{{pending}, {retry1}},
			want:         want(store.StatusRetrying, 1, "service unavailable", at(0), retry1.At),
			wantAttempts: []store.Attempt{attempt(retry1)},
		},
		{
			name:         "duplicate result ignored",
			batches:      [][]store.Result{{pending, retry1}, {retry1}, {pending, retry1}},
			want:         want(store.StatusRetrying, 1, "service unavailable", at(0), retry1.At),
			wantAttempts: []store.Attempt{attempt(retry1)},
		},
		{
			name:         "duplicate within one batch",
			batches:      [][]store.Result{{retry1, retry1, retry1}},
			want:         want(store.StatusRetrying, 1, "service unavailable", retry1.At, retry1.At),
			wantAttempts: []store.Attempt{attempt(retry1)},
		},
		{
			name:         "out of order: attempt 2 before attempt 1",
			batches:      [][]store.Result{{retry2}, {retry1}, {pending}},
			want:         want(store.StatusRetrying, 2, "internal error", at(0), retry2.At),
			wantAttempts: []store.Attempt{attempt(retry1), attempt(retry2)},
		},
		{
			name:         "out of order: delivered before the retry it follows",
			batches:      [][]store.Result{{done3}, {retry2}, {retry1}},
			want:         want(store.StatusDelivered, 3, "", retry1.At, done3.At),
			wantAttempts: []store.Attempt{attempt(retry1), attempt(retry2), attempt(done3)},
		},
		{
			name:         "terminal wins on equal attempt, terminal second",
			batches:      [][]store.Result{{retry2}, {dead2}},
			want:         want(store.StatusDead, 2, "attempts exhausted", retry2.At, dead2.At),
			wantAttempts: []store.Attempt{attempt(retry2)}, // the first result of an attempt stays
		},
		{
			name:         "terminal wins on equal attempt, terminal first",
			batches:      [][]store.Result{{dead2}, {retry2}},
			want:         want(store.StatusDead, 2, "attempts exhausted", retry2.At, dead2.At),
			wantAttempts: []store.Attempt{attempt(dead2)},
		},
		{
			name:         "terminal does not replace terminal on equal attempt",
			batches:      [][]store.Result{{delivered}, {dead2}},
			want:         want(store.StatusDelivered, 2, "", delivered.At, delivered.At),
			wantAttempts: []store.Attempt{attempt(delivered)},
		},
		{
			name:         "pending after delivered does not regress",
			batches:      [][]store.Result{{retry1}, {delivered}, {pending}},
			want:         want(store.StatusDelivered, 2, "", at(0), delivered.At),
			wantAttempts: []store.Attempt{attempt(retry1), attempt(delivered)},
		},
		{
			name: "pending stamped after the attempt does not regress",
			batches: [][]store.Result{{retry1}, {func() store.Result {
				r := pending
				r.At = at(time.Hour)
				return r
			}()}},
			want:         want(store.StatusRetrying, 1, "service unavailable", retry1.At, at(time.Hour)),
			wantAttempts: []store.Attempt{attempt(retry1)},
		},
		{
			name:         "several results for one delivery in one batch",
			batches:      [][]store.Result{{retry2, pending, done3, retry1}},
			want:         want(store.StatusDelivered, 3, "", at(0), done3.At),
			wantAttempts: []store.Attempt{attempt(retry1), attempt(retry2), attempt(done3)},
		},
		{
			name:         "terminal wins on equal attempt within one batch",
			batches:      [][]store.Result{{dead2, retry1, retry2}},
			want:         want(store.StatusDead, 2, "attempts exhausted", retry1.At, dead2.At),
			wantAttempts: []store.Attempt{attempt(retry1), attempt(dead2)},
		},
		{
			name:         "one batch, then its results again in another order",
			batches:      [][]store.Result{{pending, retry1, retry2, delivered}, {delivered, retry2, retry1, pending}},
			want:         want(store.StatusDelivered, 2, "", at(0), delivered.At),
			wantAttempts: []store.Attempt{attempt(retry1), attempt(retry2)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, newStore)
			record(t, s, tc.batches...)
			got, gotAttempts := getDelivery(t, s, "d1")
			if g, w := formatDelivery(got), formatDelivery(tc.want); g != w {
				t.Errorf("delivery:\n got %s\nwant %s", g, w)
			}
			if g, w := formatAttempts(gotAttempts), formatAttempts(tc.wantAttempts); g != w {
				t.Errorf("attempts:%s\nwant:%s", g, w)
			}
			if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
				t.Errorf("times in %v and %v, want UTC", got.CreatedAt.Location(), got.UpdatedAt.Location())
			}
			if gotAttempts == nil {
				t.Error("Delivery returned nil attempts, want an empty slice (JSON [])")
			}
		})
	}
}

func testRecordEmpty(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	for _, results := range [][]store.Result{nil, {}} {
		if err := s.Record(ctx(t), results); err != nil {
			t.Errorf("Record(%v): %v", results, err)
		}
	}
}

// testRecordInvalid checks that a malformed result fails its whole batch, writing nothing.
func testRecordInvalid(t *testing.T, newStore NewStore) {
	valid := result("ok", 1, store.StatusRetrying, at(0))
	tests := []struct {
		name string
		bad  store.Result
	}{
		{"empty delivery id", result("", 1, store.StatusRetrying, at(0))},
		{"negative attempt", result("d1", -1, store.StatusRetrying, at(0))},
		{"unknown status", result("d1", 1, "exploded", at(0))},
		{"empty status", result("d1", 1, "", at(0))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := setup(t, newStore)
			if err := s.Record(ctx(t), []store.Result{valid, tc.bad}); err == nil {
				t.Fatal("Record accepted a malformed result")
			}
			if _, _, err := s.Delivery(ctx(t), valid.DeliveryID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the valid result of a failed batch was written: Delivery error = %v", err)
			}
		})
	}
}

// testRecordConcurrent records the same results from several writers at once, each in its
// own order and batching, as recorders sharing a consumer would after redeliveries.
func testRecordConcurrent(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	const deliveries, writers, batchSize = 50, 4, 16
	var all []store.Result
	for i := range deliveries {
		id := fmt.Sprintf("d%03d", i)
		all = append(all,
			result(id, 0, store.StatusPending, at(0)),
			failed(result(id, 1, store.StatusRetrying, at(time.Second)), 502, "bad gateway"),
			failed(result(id, 2, store.StatusRetrying, at(2*time.Second)), 502, "bad gateway"),
			result(id, 3, store.StatusDelivered, at(3*time.Second)))
	}
	c := ctx(t)
	var wg sync.WaitGroup
	for w := range writers {
		mine := append([]store.Result(nil), all...)
		rand.New(rand.NewPCG(uint64(w), 1)).Shuffle(len(mine), func(i, j int) { mine[i], mine[j] = mine[j], mine[i] })
		wg.Go(func() {
			for len(mine) > 0 {
				n := min(batchSize, len(mine))
				if err := s.Record(c, mine[:n]); err != nil {
					t.Errorf("writer %d: Record: %v", w, err)
					return
				}
				mine = mine[n:]
			}
		})
	}
	wg.Wait()
	for i := range deliveries {
		id := fmt.Sprintf("d%03d", i)
		d, attempts := getDelivery(t, s, id)
		if d.Status != store.StatusDelivered || d.Attempts != 3 || len(attempts) != 3 ||
			!d.CreatedAt.Equal(at(0)) || !d.UpdatedAt.Equal(at(3*time.Second)) {
			t.Errorf("after concurrent writes: %s%s", formatDelivery(d), formatAttempts(attempts))
		}
	}
}

// testRecordLargeBatch records 5,000 results in one call: 2,500 deliveries, each fanned out
// and delivered, shuffled.
func testRecordLargeBatch(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	const deliveries = 2500
	results := make([]store.Result, 0, 2*deliveries)
	for i := range deliveries {
		id := fmt.Sprintf("d%05d", i)
		created := at(time.Duration(i) * time.Millisecond)
		results = append(results,
			result(id, 0, store.StatusPending, created),
			result(id, 1, store.StatusDelivered, created.Add(time.Second)))
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(results), func(i, j int) { results[i], results[j] = results[j], results[i] })
	record(t, s, results)

	counts, err := s.Counts(ctx(t), time.Time{})
	if err != nil {
		t.Fatalf("Counts: %v", err)
	}
	want := []store.Count{{EventType: "payment.failed", Channel: "webhook", Status: store.StatusDelivered, Count: deliveries}}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("Counts = %v, want %v", counts, want)
	}
	d, attempts := getDelivery(t, s, "d01234")
	if d.Status != store.StatusDelivered || d.Attempts != 1 || len(attempts) != 1 ||
		!d.CreatedAt.Equal(at(1234*time.Millisecond)) {
		t.Errorf("d01234 = %s%s", formatDelivery(d), formatAttempts(attempts))
	}
	// The limits of Filter: 100 by default, 1000 at most, newest first.
	for _, tc := range []struct{ limit, want int }{{0, 100}, {-1, 100}, {5000, 1000}, {7, 7}} {
		got, err := s.Deliveries(ctx(t), store.Filter{Limit: tc.limit})
		if err != nil {
			t.Fatalf("Deliveries(Limit %d): %v", tc.limit, err)
		}
		if len(got) != tc.want {
			t.Errorf("Deliveries(Limit %d) returned %d rows, want %d", tc.limit, len(got), tc.want)
		}
		if len(got) > 0 && got[0].DeliveryID != fmt.Sprintf("d%05d", deliveries-1) {
			t.Errorf("Deliveries(Limit %d) starts with %s, want the newest", tc.limit, got[0].DeliveryID)
		}
	}
}
