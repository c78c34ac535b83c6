package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// testStats records deliveries whose status changed at chosen times and checks the steps
// they are counted in: the window's bounds (start inclusive, end exclusive), each delivery
// once in its latest status, pending left out, and the channel filter.
func testStats(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	st, ok := s.(store.StatsStore)
	if !ok {
		t.Fatalf("%T does not implement store.StatsStore", s)
	}
	r := func(id, channel string, attempt int, status store.Status, when time.Duration) store.Result {
		res := result(id, attempt, status, at(when))
		res.Channel = channel
		return res
	}
	record(t, s, []store.Result{
		r("a", "webhook", 1, store.StatusDelivered, 10*time.Second),
		r("b", "webhook", 1, store.StatusDelivered, 59*time.Second+999*time.Millisecond),
		r("c", "webhook", 1, store.StatusFailed, 2*time.Minute),
		r("d", "slack", 1, store.StatusDead, 2*time.Minute+59*time.Second),
		r("e", "slack", 1, store.StatusRetrying, 4*time.Minute),
		r("f", "webhook", 0, store.StatusPending, time.Minute),      // pending: not charted
		r("g", "webhook", 1, store.StatusDelivered, -time.Second),   // before the window
		r("h", "webhook", 1, store.StatusDelivered, 5*time.Minute),  // at its end: after it
		r("i", "webhook", 1, store.StatusDelivered, 3*time.Minute),  // on a step's start
		r("j", "webhook", 1, store.StatusRetrying, 30*time.Second),  // then delivered:
		r("j", "webhook", 2, store.StatusDelivered, 90*time.Second), // counted once, here
	})
	q := store.StatsQuery{Since: at(0), Until: at(5 * time.Minute), Step: time.Minute}
	got, err := st.Stats(ctx(t), q)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	c := func(channel string, status store.Status, step int, n int64) store.StatsCount {
		return store.StatsCount{Channel: channel, Status: status, At: at(time.Duration(step) * time.Minute), Count: n}
	}
	want := []store.StatsCount{
		c("slack", store.StatusDead, 2, 1),
		c("slack", store.StatusRetrying, 4, 1),
		c("webhook", store.StatusDelivered, 0, 2),
		c("webhook", store.StatusDelivered, 1, 1),
		c("webhook", store.StatusFailed, 2, 1),
		c("webhook", store.StatusDelivered, 3, 1),
	}
	if !slices.Equal(got, want) {
		t.Errorf("Stats(%+v) =\n%+v\nwant\n%+v", q, got, want)
	}

	q.Channel = "slack"
	got, err = st.Stats(ctx(t), q)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if !slices.Equal(got, want[:2]) {
		t.Errorf("Stats(%+v) =\n%+v\nwant\n%+v", q, got, want[:2])
	}

	// Steps of 10 seconds from a start that is not on a minute.
	q = store.StatsQuery{Since: at(50 * time.Second), Until: at(70 * time.Second), Step: 10 * time.Second}
	got, err = st.Stats(ctx(t), q)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	want = []store.StatsCount{{Channel: "webhook", Status: store.StatusDelivered, At: at(50 * time.Second), Count: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("Stats(%+v) = %+v, want %+v", q, got, want)
	}

	q = store.StatsQuery{Since: at(time.Hour), Until: at(2 * time.Hour), Step: time.Minute}
	if got, err = st.Stats(ctx(t), q); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Stats of an empty window = %#v, %v; want an empty slice", got, err)
	}
}

// testTenants checks the tenants listed for the operator: those with destinations or
// working keys, with their counts; a tenant whose only key is revoked is not one.
func testTenants(t *testing.T, newStore NewStore) {
	s := setup(t, newStore)
	ts, ok := s.(store.TenantsStore)
	if !ok {
		t.Fatalf("%T does not implement store.TenantsStore", s)
	}
	ds, ok := s.(store.DestinationStore)
	if !ok {
		t.Fatalf("%T does not implement store.DestinationStore", s)
	}
	ks, ok := s.(store.KeyStore)
	if !ok {
		t.Fatalf("%T does not implement store.KeyStore", s)
	}
	if got, err := ts.Tenants(ctx(t)); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("Tenants of an empty ledger = %#v, %v; want an empty slice", got, err)
	}
	create(t, ds, destination("acme", "hook"))
	create(t, ds, destination("acme", "slack"))
	create(t, ds, destination("globex", "hook"))
	createKey(t, ks, tenantKey("acme", "k1"))
	createKey(t, ks, tenantKey("initech", "k2"))
	createKey(t, ks, tenantKey("initech", "k3"))
	createKey(t, ks, tenantKey("umbrella", "k4"))
	if err := ks.RevokeKey(ctx(t), "umbrella", "k4"); err != nil {
		t.Fatal(err)
	}
	if err := ks.RevokeKey(ctx(t), "initech", "k3"); err != nil {
		t.Fatal(err)
	}
	got, err := ts.Tenants(ctx(t))
	if err != nil {
		t.Fatalf("Tenants: %v", err)
	}
	want := []store.TenantCount{
		{Tenant: "acme", Destinations: 2, Keys: 1},
		{Tenant: "globex", Destinations: 1},
		{Tenant: "initech", Keys: 1},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Tenants = %+v, want %+v", got, want)
	}
}
