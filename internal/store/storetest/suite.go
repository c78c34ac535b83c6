// Package storetest is the conformance suite of store.Store: every implementation runs it
// from its own tests, against a real, empty database, so that the PostgreSQL ledger and the
// embedded SQLite one behave alike.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			s, err := postgres.New(t.Context(), testutil.NewDatabase(t))
//			if err != nil {
//				t.Fatalf("New: %v", err)
//			}
//			t.Cleanup(func() { _ = s.Close() })
//			return s
//		})
//	}
//
// Beyond the interface's documented contract the suite fixes what callers rely on: lists
// are empty, not nil, slices; Since bounds are inclusive; times come back in UTC with
// microsecond precision; a malformed result fails its whole batch.
//
// BenchmarkRecord measures Record the same way for every implementation.
package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// NewStore returns a store on a fresh, empty database that no other test uses, not migrated
// yet, and closes it when the test ends.
type NewStore func(t *testing.T) store.Store

// Run runs the conformance suite. Each subtest gets its own store from newStore and runs in
// parallel with the others.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, newStore NewStore)
	}{
		{"Migrate", testMigrate},
		{"Ping", testPing},
		{"Record", testRecord},
		{"RecordEmpty", testRecordEmpty},
		{"RecordInvalid", testRecordInvalid},
		{"RecordConcurrent", testRecordConcurrent},
		{"RecordLargeBatch", testRecordLargeBatch},
		{"Deliveries", testDeliveries},
		{"DeliveryNotFound", testDeliveryNotFound},
		{"Counts", testCounts},
		{"PageFilters", testPageFilters},
		{"PageKeyset", testPageKeyset},
		{"SettleDead", testSettleDead},
		{"Health", testHealth},
		{"Stats", testStats},
		{"Tenants", testTenants},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore)
		})
	}
}

// setup returns a migrated store.
func setup(t *testing.T, newStore NewStore) store.Store {
	t.Helper()
	s := newStore(t)
	if err := s.Migrate(ctx(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// ctx returns a context that ends with the test, or after a minute should a store hang.
func ctx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// t0 is the suite's clock: a fixed time, microsecond-aligned as both stores keep times.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// result builds a result of delivery id with the suite's default description.
func result(id string, attempt int, status store.Status, when time.Time) store.Result {
	return store.Result{
		DeliveryID:  id,
		EventID:     "evt-" + id,
		TenantID:    "tenant-a",
		EventType:   "payment.failed",
		Channel:     "webhook",
		Destination: "https://example.com/hook",
		Attempt:     attempt,
		Status:      status,
		At:          when,
	}
}

// failed returns r with an error, as a failed attempt carries.
func failed(r store.Result, code int, msg string) store.Result {
	r.HTTPStatus, r.Error, r.DurationMS = code, msg, 250
	return r
}

// record records each batch in turn, failing the test on an error.
func record(t *testing.T, s store.Store, batches ...[]store.Result) {
	t.Helper()
	for i, b := range batches {
		if err := s.Record(ctx(t), b); err != nil {
			t.Fatalf("Record batch %d: %v", i, err)
		}
	}
}

// getDelivery returns a delivery that must exist.
func getDelivery(t *testing.T, s store.Store, id string) (store.Delivery, []store.Attempt) {
	t.Helper()
	d, attempts, err := s.Delivery(ctx(t), id)
	if err != nil {
		t.Fatalf("Delivery(%q): %v", id, err)
	}
	return d, attempts
}

// formatDelivery renders a delivery on one line with its times in UTC, to compare and to
// print in failures.
func formatDelivery(d store.Delivery) string {
	return fmt.Sprintf("{id=%s event=%s tenant=%s type=%s channel=%s dest=%s status=%s attempts=%d error=%q created=%s updated=%s}",
		d.DeliveryID, d.EventID, d.TenantID, d.EventType, d.Channel, d.Destination, d.Status,
		d.Attempts, d.LastError, formatTime(d.CreatedAt), formatTime(d.UpdatedAt))
}

// formatAttempts renders attempts one per line.
func formatAttempts(attempts []store.Attempt) string {
	var b strings.Builder
	for _, a := range attempts {
		fmt.Fprintf(&b, "\n  {id=%s attempt=%d status=%s error=%q http=%d duration=%d at=%s}",
			a.DeliveryID, a.Attempt, a.Status, a.Error, a.HTTPStatus, a.DurationMS, formatTime(a.At))
	}
	return b.String()
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "zero"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func testMigrate(t *testing.T, newStore NewStore) {
	s := newStore(t)
	for i := range 2 {
		if err := s.Migrate(ctx(t)); err != nil {
			t.Fatalf("Migrate, run %d: %v", i+1, err)
		}
	}
	// Several processes start at once and each migrates.
	c, errs := ctx(t), make(chan error, 3)
	for range cap(errs) {
		go func() { errs <- s.Migrate(c) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Errorf("concurrent Migrate: %v", err)
		}
	}
	// The schema works after all that.
	record(t, s, []store.Result{result("d1", 1, store.StatusDelivered, at(0))})
	getDelivery(t, s, "d1")
}

func testPing(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	if err := s.Ping(ctx(t)); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
