package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// BenchBatchSize is the number of results per Record call in BenchmarkRecord, about what the
// recorder collects from RESULTS in one fetch.
const BenchBatchSize = 500

// BenchmarkRecord measures Record with batches of BenchBatchSize results and reports rows/s,
// one row being one result. newStore returns a store on a fresh database, not migrated.
//
//   - new: every result is the first attempt of a new delivery (an insert of both rows).
//   - update: every result is the next attempt of an existing delivery (an upsert).
func BenchmarkRecord(b *testing.B, newStore func(b *testing.B) store.Store) {
	b.Run("new", func(b *testing.B) {
		s, c := newStore(b), ctx(b)
		if err := s.Migrate(c); err != nil {
			b.Fatalf("Migrate: %v", err)
		}
		batch := make([]store.Result, BenchBatchSize)
		n := 0
		for b.Loop() {
			for i := range batch {
				batch[i] = result(fmt.Sprintf("bench-%09d", n), 1, store.StatusDelivered, t0.Add(time.Duration(n)*time.Microsecond))
				n++
			}
			if err := s.Record(c, batch); err != nil {
				b.Fatalf("Record: %v", err)
			}
		}
		reportRows(b, n)
	})
	b.Run("update", func(b *testing.B) {
		s, c := newStore(b), ctx(b)
		if err := s.Migrate(c); err != nil {
			b.Fatalf("Migrate: %v", err)
		}
		batch := make([]store.Result, BenchBatchSize)
		for i := range batch {
			batch[i] = result(fmt.Sprintf("bench-%09d", i), 0, store.StatusPending, t0)
		}
		if err := s.Record(c, batch); err != nil {
			b.Fatalf("Record: %v", err)
		}
		n, attempt := 0, 0
		for b.Loop() {
			attempt++
			for i := range batch {
				batch[i].Attempt, batch[i].Status = attempt, store.StatusRetrying
				batch[i].At = t0.Add(time.Duration(attempt) * time.Second)
				batch[i].Error, batch[i].HTTPStatus = "service unavailable", 503
			}
			if err := s.Record(c, batch); err != nil {
				b.Fatalf("Record: %v", err)
			}
			n += len(batch)
		}
		reportRows(b, n)
	})
}

func reportRows(b *testing.B, rows int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(rows)/s, "rows/s")
	}
}
