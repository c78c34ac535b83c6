package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

func testDeliveryNotFound(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	record(t, s, []store.Result{result("exists", 1, store.StatusDelivered, at(0))})
	_, attempts, err := s.Delivery(ctx(t), "missing")
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Delivery(missing) error = %v, want store.ErrNotFound", err)
	}
	if attempts != nil {
		t.Errorf("Delivery(missing) attempts = %v, want nil", attempts)
	}
}

// testDeliveries checks each filter of Deliveries against a small ledger, and the order,
// newest first.
func testDeliveries(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	// describe sets the fields the filters select on.
	describe := func(id string, minutes int, tenant, eventType, channel, event string, status store.Status) store.Result {
		attempt := 1
		if status == store.StatusPending {
			attempt = 0
		}
		r := result(id, attempt, status, at(time.Duration(minutes)*time.Minute))
		r.TenantID, r.EventType, r.Channel, r.EventID = tenant, eventType, channel, event
		return r
	}
	record(t, s, []store.Result{
		describe("a", 1, "acme", "payment.failed", "slack", "e1", store.StatusDelivered),
		describe("b", 2, "acme", "payment.failed", "webhook", "e1", store.StatusRetrying),
		describe("c", 3, "acme", "node.launched", "webhook", "e2", store.StatusFailed),
		describe("d", 4, "globex", "payment.failed", "email", "e3", store.StatusDead),
		describe("e", 5, "globex", "node.launched", "slack", "e4", store.StatusPending),
		describe("f", 6, "globex", "payment.failed", "webhook", "e5", store.StatusDelivered),
	})
	tests := []struct {
		name   string
		filter store.Filter
		want   []string
	}{
		{"all, newest first", store.Filter{}, []string{"f", "e", "d", "c", "b", "a"}},
		{"tenant", store.Filter{TenantID: "acme"}, []string{"c", "b", "a"}},
		{"event type", store.Filter{EventType: "node.launched"}, []string{"e", "c"}},
		{"channel", store.Filter{Channel: "webhook"}, []string{"f", "c", "b"}},
		{"status", store.Filter{Status: store.StatusDelivered}, []string{"f", "a"}},
		{"pending", store.Filter{Status: store.StatusPending}, []string{"e"}},
		{"event id", store.Filter{EventID: "e1"}, []string{"b", "a"}},
		{"since, inclusive", store.Filter{Since: at(4 * time.Minute)}, []string{"f", "e", "d"}},
		{"limit", store.Filter{Limit: 2}, []string{"f", "e"}},
		{"combined", store.Filter{TenantID: "globex", EventType: "payment.failed", Channel: "webhook"}, []string{"f"}},
		{"combined with limit", store.Filter{EventType: "payment.failed", Limit: 3}, []string{"f", "d", "b"}},
		{"no match", store.Filter{TenantID: "nobody"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Deliveries(ctx(t), tc.filter)
			if err != nil {
				t.Fatalf("Deliveries: %v", err)
			}
			var ids []string
			for _, d := range got {
				ids = append(ids, d.DeliveryID)
			}
			if !slices.Equal(ids, tc.want) {
				t.Errorf("Deliveries(%+v) = %v, want %v", tc.filter, ids, tc.want)
			}
			if got == nil {
				t.Error("Deliveries returned a nil slice, want an empty one (JSON [])")
			}
		})
	}
	// The rows carry every field.
	got, err := s.Deliveries(ctx(t), store.Filter{EventID: "e3"})
	if err != nil || len(got) != 1 {
		t.Fatalf("Deliveries(event e3) = %v, %v", got, err)
	}
	want := store.Delivery{DeliveryID: "d", EventID: "e3", TenantID: "globex", EventType: "payment.failed",
		Channel: "email", Destination: "https://example.com/hook", Status: store.StatusDead, Attempts: 1,
		CreatedAt: at(4 * time.Minute), UpdatedAt: at(4 * time.Minute)}
	if g, w := formatDelivery(got[0]), formatDelivery(want); g != w {
		t.Errorf("Deliveries row:\n got %s\nwant %s", g, w)
	}
}

// testCounts checks the status summary: grouped by event type, channel and status, counting
// deliveries created since a time, whatever their later attempts.
func testCounts(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	var results []store.Result
	add := func(n int, created time.Time, eventType, channel string, status store.Status) {
		for range n {
			r := result(fmt.Sprintf("d%03d", len(results)), 1, status, created)
			r.EventType, r.Channel = eventType, channel
			results = append(results, r)
		}
	}
	old := at(-48 * time.Hour)
	add(3, old, "payment.failed", "webhook", store.StatusDelivered)
	add(1, old, "tenant.created", "email", store.StatusDead)
	add(2, at(0), "payment.failed", "webhook", store.StatusDelivered)
	add(1, at(time.Minute), "payment.failed", "webhook", store.StatusDead)
	add(1, at(2*time.Minute), "payment.failed", "slack", store.StatusDelivered)
	add(1, at(3*time.Minute), "node.launched", "webhook", store.StatusRetrying)
	// An old delivery attempted again recently is still counted by when it was created.
	late := result("d000", 2, store.StatusDead, at(time.Hour))
	record(t, s, results, []store.Result{late})

	count := func(eventType, channel string, status store.Status, n int64) store.Count {
		return store.Count{EventType: eventType, Channel: channel, Status: status, Count: n}
	}
	tests := []struct {
		name  string
		since time.Time
		want  []store.Count
	}{
		{"last 24 hours", at(-24 * time.Hour), []store.Count{
			count("node.launched", "webhook", store.StatusRetrying, 1),
			count("payment.failed", "slack", store.StatusDelivered, 1),
			count("payment.failed", "webhook", store.StatusDead, 1),
			count("payment.failed", "webhook", store.StatusDelivered, 2),
		}},
		{"since is inclusive", at(2 * time.Minute), []store.Count{
			count("node.launched", "webhook", store.StatusRetrying, 1),
			count("payment.failed", "slack", store.StatusDelivered, 1),
		}},
		{"zero since counts all", time.Time{}, []store.Count{
			count("node.launched", "webhook", store.StatusRetrying, 1),
			count("payment.failed", "slack", store.StatusDelivered, 1),
			count("payment.failed", "webhook", store.StatusDead, 2),
			count("payment.failed", "webhook", store.StatusDelivered, 4),
			count("tenant.created", "email", store.StatusDead, 1),
		}},
		{"nothing since", at(time.Hour), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Counts(ctx(t), tc.since)
			if err != nil {
				t.Fatalf("Counts: %v", err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Counts(%s) =\n %v\nwant\n %v", formatTime(tc.since), got, tc.want)
			}
			if got == nil {
				t.Error("Counts returned a nil slice, want an empty one (JSON [])")
			}
		})
	}
}
