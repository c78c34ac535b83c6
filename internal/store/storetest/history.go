package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// historyStore returns the store's store.HistoryStore side, which every Herald ledger has.
func historyStore(t *testing.T, s store.Store) store.HistoryStore {
	t.Helper()
	h, ok := s.(store.HistoryStore)
	if !ok {
		t.Fatalf("%T does not implement store.HistoryStore", s)
	}
	return h
}

func pageIDs(t *testing.T, h store.HistoryStore, q store.Query) []string {
	t.Helper()
	got, err := h.Page(ctx(t), q)
	if err != nil {
		t.Fatalf("Page(%+v): %v", q, err)
	}
	ids := make([]string, len(got))
	for i, d := range got {
		ids[i] = d.DeliveryID
	}
	return ids
}

// testPageFilters checks each condition of Query against a small ledger.
func testPageFilters(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	h := historyStore(t, s)
	describe := func(id string, minutes int, eventType, channel, dest string, status store.Status) store.Result {
		r := result(id, 1, status, at(time.Duration(minutes)*time.Minute))
		r.EventType, r.Channel, r.Destination = eventType, channel, dest
		return r
	}
	record(t, s, []store.Result{
		describe("a", 1, "payment.failed", "slack", "slack", store.StatusDelivered),
		describe("b", 2, "payment.succeeded", "webhook", "ops", store.StatusDead),
		describe("c", 3, "node.launched", "webhook", "ops", store.StatusFailed),
		describe("d", 4, "payment_x", "email", "mail", store.StatusRetrying),
		describe("e", 5, "paymentsfailed", "slack", "slack", store.StatusDelivered),
	})
	tests := []struct {
		name string
		q    store.Query
		want []string
	}{
		{"all", store.Query{}, []string{"e", "d", "c", "b", "a"}},
		{"prefix", store.Query{EventTypePrefix: "payment."}, []string{"b", "a"}},
		{"prefix with a LIKE wildcard", store.Query{EventTypePrefix: "payment_"}, []string{"d"}},
		{"exact type", store.Query{EventType: "node.launched"}, []string{"c"}},
		{"destination", store.Query{Destination: "ops"}, []string{"c", "b"}},
		{"statuses", store.Query{Statuses: []store.Status{store.StatusDead, store.StatusRetrying}}, []string{"d", "b"}},
		{"since and until", store.Query{Since: at(2 * time.Minute), Until: at(4 * time.Minute)}, []string{"c", "b"}},
		{"ids", store.Query{IDs: []string{"a", "c", "zz"}}, []string{"c", "a"}},
		{"dead list", store.Query{DeadLettered: true}, []string{"c", "b"}},
		{"after", store.Query{After: &store.Position{CreatedAt: at(3 * time.Minute), DeliveryID: "c"}}, []string{"b", "a"}},
		{"limit", store.Query{Limit: 2}, []string{"e", "d"}},
	}
	for _, tc := range tests {
		if got := pageIDs(t, h, tc.q); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Page = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testPageKeyset walks the history a page at a time while newer deliveries keep arriving,
// with many rows sharing one created_at: every row present at the start is seen exactly
// once, in order.
func testPageKeyset(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	h := historyStore(t, s)
	var first []store.Result
	for i := range 120 {
		// Three rows per instant: the order within an instant is the delivery id's.
		first = append(first, result(fmt.Sprintf("old-%03d", i), 1, store.StatusDelivered, at(time.Duration(i/3)*time.Second)))
	}
	record(t, s, first)

	stop := make(chan struct{})
	wrote := make(chan struct{}, 1) // a new row was recorded since the last receive
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Newer than every page in progress, as live deliveries are.
			r := result(fmt.Sprintf("new-%04d", i), 1, store.StatusDelivered, at(time.Hour+time.Duration(i)*time.Millisecond))
			if err := s.Record(ctx(t), []store.Result{r}); err != nil {
				t.Errorf("Record: %v", err)
				return
			}
			select {
			case wrote <- struct{}{}:
			default:
			}
		}
	}()

	seen := map[string]int{}
	var order []store.Delivery
	var after *store.Position
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("more pages than rows")
		}
		got, err := h.Page(ctx(t), store.Query{After: after, Limit: 7, Until: at(time.Hour)})
		if err != nil {
			t.Fatalf("Page: %v", err)
		}
		for _, d := range got {
			seen[d.DeliveryID]++
			order = append(order, d)
		}
		if len(got) < 7 {
			break
		}
		last := got[len(got)-1]
		after = &store.Position{CreatedAt: last.CreatedAt, DeliveryID: last.DeliveryID}
		// At least one delivery arrives between any two pages.
		select {
		case <-wrote:
		case <-ctx(t).Done():
			t.Fatal("no new delivery recorded")
		}
	}
	close(stop)
	wg.Wait()
	for _, r := range first {
		if seen[r.DeliveryID] != 1 {
			t.Errorf("%s seen %d times, want once", r.DeliveryID, seen[r.DeliveryID])
		}
	}
	if len(order) != len(first) {
		t.Errorf("walked %d rows, want %d", len(order), len(first))
	}
	for i := 1; i < len(order); i++ {
		a, b := order[i-1], order[i]
		if a.CreatedAt.Before(b.CreatedAt) || (a.CreatedAt.Equal(b.CreatedAt) && a.DeliveryID <= b.DeliveryID) {
			t.Fatalf("row %d (%s) is not older than row %d (%s)", i, formatDelivery(b), i-1, formatDelivery(a))
		}
	}

	// Without Until the new rows come first, and the walk still ends.
	if got := pageIDs(t, h, store.Query{Limit: 1}); len(got) != 1 || got[0][:4] != "new-" {
		t.Errorf("newest = %v, want a new- row", got)
	}
}

// testSettleDead follows a dead letter through redrive, a second death, an old result
// recorded again, and a discard.
func testSettleDead(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	h := historyStore(t, s)
	record(t, s, []store.Result{
		result("x", 0, store.StatusPending, at(0)),
		failed(result("x", 1, store.StatusRetrying, at(time.Second)), 503, "unavailable"),
		failed(result("x", 2, store.StatusDead, at(2*time.Second)), 503, "unavailable"),
		failed(result("y", 1, store.StatusFailed, at(3*time.Second)), 400, "bad request"),
		result("z", 1, store.StatusDelivered, at(4*time.Second)),
	})
	dead := func() []string { return pageIDs(t, h, store.Query{DeadLettered: true}) }
	if got := dead(); !slices.Equal(got, []string{"y", "x"}) {
		t.Fatalf("dead list = %v, want [y x]", got)
	}

	// A stale count (the letter moved on since it was selected) and a delivered one change
	// nothing.
	n, err := h.SettleDead(ctx(t), store.SettleRedriven, []store.Settle{settle("x", 1), settle("z", 1), settle("missing", 1)}, at(time.Minute))
	if err != nil || n != 0 {
		t.Fatalf("SettleDead(stale) = %d, %v; want 0, nil", n, err)
	}
	n, err = h.SettleDead(ctx(t), store.SettleRedriven, []store.Settle{settle("x", 2)}, at(time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("SettleDead(x) = %d, %v; want 1, nil", n, err)
	}
	if got := dead(); !slices.Equal(got, []string{"y"}) {
		t.Errorf("dead list after redrive = %v, want [y]", got)
	}
	d, _ := getDelivery(t, s, "x")
	if d.Status != store.StatusPending || d.Attempts != 2 || !d.UpdatedAt.Equal(at(time.Minute)) {
		t.Errorf("redriven delivery = %s, want pending, 2 attempts, updated at +1m", formatDelivery(d))
	}
	// Settling twice does nothing more.
	if n, _ := h.SettleDead(ctx(t), store.SettleRedriven, []store.Settle{settle("x", 2)}, at(time.Minute)); n != 0 {
		t.Errorf("second SettleDead(x) = %d, want 0", n)
	}

	// The recorder records the old dead result again: it stays off the list.
	record(t, s, []store.Result{failed(result("x", 2, store.StatusDead, at(2*time.Second)), 503, "unavailable")})
	if got := dead(); !slices.Equal(got, []string{"y"}) {
		t.Errorf("dead list after an old result = %v, want [y]", got)
	}
	// The redriven delivery dies again, recorded with an earlier clock than the redrive's:
	// back on the list all the same.
	record(t, s, []store.Result{failed(result("x", 3, store.StatusDead, at(30*time.Second)), 503, "still down")})
	if got := dead(); !slices.Equal(got, []string{"y", "x"}) {
		t.Errorf("dead list after a second death = %v, want [y x]", got)
	}

	// Discard keeps the status.
	n, err = h.SettleDead(ctx(t), store.SettleDiscarded, []store.Settle{settle("x", 3), settle("y", 1)}, at(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("SettleDead(discard) = %d, %v; want 2, nil", n, err)
	}
	if got := dead(); len(got) != 0 {
		t.Errorf("dead list after discard = %v, want empty", got)
	}
	if d, _ := getDelivery(t, s, "y"); d.Status != store.StatusFailed {
		t.Errorf("discarded delivery = %s, want failed", formatDelivery(d))
	}
	// The redriven delivery is delivered at last.
	record(t, s, []store.Result{result("x", 4, store.StatusDelivered, at(3*time.Minute))})
	if d, _ := getDelivery(t, s, "x"); d.Status != store.StatusDelivered || d.Attempts != 4 {
		t.Errorf("delivery after redrive = %s, want delivered on attempt 4", formatDelivery(d))
	}
}

// testHealth checks the status figures per destination.
func testHealth(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	h := historyStore(t, s)
	now := at(2 * time.Hour)
	r := func(id string, ago time.Duration, dest string, status store.Status) store.Result {
		res := result(id, 1, status, now.Add(-ago))
		res.Destination, res.Channel = dest, "slack"
		if status == store.StatusPending {
			res.Attempt = 0
		}
		return res
	}
	record(t, s, []store.Result{
		r("a", time.Minute, "one", store.StatusDelivered),
		r("b", 2*time.Minute, "one", store.StatusDead),
		r("c", 3*time.Minute, "one", store.StatusPending),
		r("d", 30*time.Minute, "one", store.StatusDelivered),
		r("e", 90*time.Minute, "one", store.StatusFailed), // too old for the rates, still dead
		r("f", 10*time.Minute, "two", store.StatusDelivered),
	})
	got, err := h.Health(ctx(t), now.Add(-5*time.Minute), now.Add(-time.Hour), now.Add(-24*time.Hour))
	if err != nil {
		t.Fatalf("Health: %v", err)
	}
	want := []store.Health{
		{Channel: "slack", Destination: "one", Finished5m: 2, Delivered5m: 1, Finished60m: 3, Delivered60m: 2, DeadLetters: 2},
		{Channel: "slack", Destination: "two", Finished5m: 0, Delivered5m: 0, Finished60m: 1, Delivered60m: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Health = %+v\nwant %+v", got, want)
	}
}

func settle(id string, attempts int) store.Settle {
	return store.Settle{DeliveryID: id, Attempts: attempts}
}
