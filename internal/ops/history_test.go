package ops_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/ops"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
)

// newHistory returns a Service over a fresh embedded ledger holding results.
func newHistory(t *testing.T, results []store.Result) *ops.Service {
	t.Helper()
	s, err := sqlite.Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(t.Context(), results); err != nil {
		t.Fatal(err)
	}
	return ops.New(ops.Config{}, ops.Deps{Ledger: s})
}

// TestHistoryPatterns pages through the history with each kind of event type pattern: the
// ones SQL filters alone and a glob filtered in Go, across pages of a mixed ledger.
func TestHistoryPatterns(t *testing.T) {
	t.Parallel()
	types := []string{"payment.failed", "payment.succeeded", "node.launched", "paymentX", "payment.refund.issued"}
	var results []store.Result
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Microsecond)
	for i := range 50 {
		results = append(results, store.Result{
			DeliveryID: fmt.Sprintf("d%02d", i), EventID: fmt.Sprintf("e%02d", i), EventType: types[i%len(types)],
			Channel: "webhook", Destination: "webhook", Attempt: 1, Status: store.StatusDelivered,
			At: base.Add(time.Duration(i/2) * time.Second), // two per instant
		})
	}
	svc := newHistory(t, results)
	count := func(pattern string) (n int) {
		for _, r := range results {
			if pattern == "" || (config.Route{Pattern: pattern}).Matches(r.EventType) {
				n++
			}
		}
		return n
	}
	for _, pattern := range []string{"", "*", "payment.failed", "payment.*", "payment*", "pay?ent.*", "*.launched", "payment.[fs]*"} {
		got := all(t, func(pg control.Page) ([]store.Delivery, string, error) {
			return svc.Deliveries(t.Context(), control.DeliveryQuery{EventType: pattern, Page: pg})
		}, 4)
		if want := count(pattern); len(got) != want {
			t.Errorf("pattern %q: %d deliveries, want %d", pattern, len(got), want)
		}
		if !slices.IsSortedFunc(got, func(a, b store.Delivery) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return cmpString(b.DeliveryID, a.DeliveryID)
		}) {
			t.Errorf("pattern %q: not newest first", pattern)
		}
	}

	var fe *control.FieldError
	if _, _, err := svc.Deliveries(t.Context(), control.DeliveryQuery{EventType: "payment.["}); !errors.As(err, &fe) || fe.Field != "event_type" {
		t.Errorf("malformed pattern: %v, want a *control.FieldError on event_type", err)
	}
	for _, c := range []string{"nope", "eyJ0IjoiMjAyNSJ9", "!!"} {
		if _, _, err := svc.Deliveries(t.Context(), control.DeliveryQuery{Page: control.Page{Cursor: c}}); !errors.As(err, &fe) || fe.Field != "cursor" {
			t.Errorf("cursor %q: %v, want a *control.FieldError on cursor", c, err)
		}
	}
	if _, _, err := svc.Deliveries(t.Context(), control.DeliveryQuery{Statuses: []store.Status{"lost"}}); !errors.As(err, &fe) || fe.Field != "status" {
		t.Errorf("unknown status: %v, want a *control.FieldError on status", err)
	}
	if _, err := svc.Delivery(t.Context(), "missing"); !errors.Is(err, control.ErrNotFound) {
		t.Errorf("Delivery(missing) = %v, want control.ErrNotFound", err)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
