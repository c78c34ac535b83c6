package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// DestinationLedger is what RunDestinations tests: a store of tenant destinations that
// migrates its own schema.
type DestinationLedger interface {
	Migrate(ctx context.Context) error
	store.DestinationStore
}

// RunDestinations runs the conformance suite of store.DestinationStore. Each subtest gets its
// own store from newStore, on a fresh, empty database not migrated yet, and runs in parallel
// with the others.
//
// Beyond the interface's documented contract the suite fixes that config bytes and event
// types come back exactly as written, times in UTC with microsecond precision, and that
// IDs order byte by byte.
func RunDestinations(t *testing.T, newStore func(t *testing.T) DestinationLedger) {
	t.Helper()
	runSuite(t, newStore, []suiteCase[DestinationLedger]{
		{"Lifecycle", testDestinationLifecycle},
		{"Exists", testDestinationExists},
		{"CreateConcurrent", testDestinationCreateConcurrent},
		{"NotFound", testDestinationNotFound},
		{"Invalid", testDestinationInvalid},
		{"TenantsIsolated", testDestinationTenantsIsolated},
		{"RoundTrip", testDestinationRoundTrip},
		{"List", testDestinationList},
	})
}

// destination builds a destination with the suite's defaults.
func destination(tenant, id string) store.TenantDestination {
	return store.TenantDestination{
		Tenant:     tenant,
		ID:         id,
		Channel:    "webhook",
		Config:     []byte("v1.sealed-" + tenant + "-" + id),
		EventTypes: []string{"payment.failed"},
		Enabled:    true,
	}
}

// create creates d, failing the test on an error.
func create(t *testing.T, s store.DestinationStore, d store.TenantDestination) store.TenantDestination {
	t.Helper()
	got, err := s.CreateDestination(ctx(t), d)
	if err != nil {
		t.Fatalf("CreateDestination(%s/%s): %v", d.Tenant, d.ID, err)
	}
	return got
}

// getDestination returns a destination that must exist.
func getDestination(t *testing.T, s store.DestinationStore, tenant, id string) store.TenantDestination {
	t.Helper()
	d, err := s.Destination(ctx(t), tenant, id)
	if err != nil {
		t.Fatalf("Destination(%s/%s): %v", tenant, id, err)
	}
	return d
}

// listDestinations lists the tenant's destinations, failing the test on an error.
func listDestinations(t *testing.T, s store.DestinationStore, tenant string) []store.TenantDestination {
	t.Helper()
	list, err := s.ListDestinations(ctx(t), tenant)
	if err != nil {
		t.Fatalf("ListDestinations(%q): %v", tenant, err)
	}
	if list == nil {
		t.Errorf("ListDestinations(%q) = nil, want an empty slice", tenant)
	}
	return list
}

// formatDestination renders a destination on one line, to compare and to print in failures.
func formatDestination(d store.TenantDestination) string {
	return fmt.Sprintf("{%s/%s channel=%s config=%q types=%q enabled=%t created=%s updated=%s}",
		d.Tenant, d.ID, d.Channel, d.Config, d.EventTypes, d.Enabled, formatTime(d.CreatedAt), formatTime(d.UpdatedAt))
}

// sameDestination reports whether got is want with its times, ignoring whether the slices
// are nil (checked separately where it matters).
func sameDestination(got, want store.TenantDestination) bool {
	return formatDestination(got) == formatDestination(want)
}

// checkStored checks that the store returned d as written, times aside, with times in UTC
// at microsecond precision and not before notBefore.
func checkStored(t *testing.T, op string, got, want store.TenantDestination, notBefore time.Time) {
	t.Helper()
	want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
	if !sameDestination(got, want) {
		t.Errorf("%s returned %s,\nwant %s", op, formatDestination(got), formatDestination(want))
	}
	for name, tm := range map[string]time.Time{"CreatedAt": got.CreatedAt, "UpdatedAt": got.UpdatedAt} {
		if tm.Location() != time.UTC || tm.Truncate(time.Microsecond) != tm {
			t.Errorf("%s: %s = %v, want UTC with microsecond precision", op, name, tm)
		}
	}
	if got.UpdatedAt.Before(notBefore.Truncate(time.Microsecond)) {
		t.Errorf("%s: UpdatedAt = %s, before the call at %s", op, formatTime(got.UpdatedAt), formatTime(notBefore))
	}
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Errorf("%s: UpdatedAt %s before CreatedAt %s", op, formatTime(got.UpdatedAt), formatTime(got.CreatedAt))
	}
}

// testDestinationLifecycle creates, reads, updates, disables, enables and deletes one
// destination, checking that each step returns what a read returns afterwards.
func testDestinationLifecycle(t *testing.T, s DestinationLedger) {
	d := destination("acme", "ops-hook")
	before := time.Now()
	created := create(t, s, d)
	checkStored(t, "CreateDestination", created, d, before)
	if !created.CreatedAt.Equal(created.UpdatedAt) {
		t.Errorf("CreateDestination: CreatedAt %s != UpdatedAt %s", formatTime(created.CreatedAt), formatTime(created.UpdatedAt))
	}
	if got := getDestination(t, s, "acme", "ops-hook"); !sameDestination(got, created) {
		t.Errorf("Destination after create = %s,\nwant %s", formatDestination(got), formatDestination(created))
	}

	// An update replaces everything but the keys and CreatedAt; the times passed are ignored.
	u := d
	u.Channel, u.Config, u.EventTypes, u.Enabled = "slack", []byte("v1.sealed-other"), []string{"user.created", "payment.failed"}, false
	u.CreatedAt, u.UpdatedAt = t0, t0
	before = time.Now()
	updated, err := s.UpdateDestination(ctx(t), u)
	if err != nil {
		t.Fatalf("UpdateDestination: %v", err)
	}
	checkStored(t, "UpdateDestination", updated, u, before)
	if !updated.CreatedAt.Equal(created.CreatedAt) {
		t.Errorf("UpdateDestination changed CreatedAt from %s to %s", formatTime(created.CreatedAt), formatTime(updated.CreatedAt))
	}
	if got := getDestination(t, s, "acme", "ops-hook"); !sameDestination(got, updated) {
		t.Errorf("Destination after update = %s,\nwant %s", formatDestination(got), formatDestination(updated))
	}

	for _, enabled := range []bool{true, false, false, true} {
		before = time.Now()
		got, err := s.SetEnabled(ctx(t), "acme", "ops-hook", enabled)
		if err != nil {
			t.Fatalf("SetEnabled(%t): %v", enabled, err)
		}
		want := updated
		want.Enabled = enabled
		checkStored(t, fmt.Sprintf("SetEnabled(%t)", enabled), got, want, before)
		if !got.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("SetEnabled(%t) changed CreatedAt from %s to %s", enabled, formatTime(created.CreatedAt), formatTime(got.CreatedAt))
		}
		if read := getDestination(t, s, "acme", "ops-hook"); !sameDestination(read, got) {
			t.Errorf("Destination after SetEnabled(%t) = %s,\nwant %s", enabled, formatDestination(read), formatDestination(got))
		}
	}

	if err := s.DeleteDestination(ctx(t), "acme", "ops-hook"); err != nil {
		t.Fatalf("DeleteDestination: %v", err)
	}
	if _, err := s.Destination(ctx(t), "acme", "ops-hook"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Destination after delete: error = %v, want store.ErrNotFound", err)
	}
	if list := listDestinations(t, s, ""); len(list) != 0 {
		t.Errorf("ListDestinations after delete = %d destinations, want none", len(list))
	}
	// The ID is free again.
	create(t, s, d)
}

// testDestinationExists checks that creating a destination twice fails and leaves the first
// as it was.
func testDestinationExists(t *testing.T, s DestinationLedger) {
	first := create(t, s, destination("acme", "hook"))
	again := destination("acme", "hook")
	again.Channel, again.Config = "slack", []byte("v1.sealed-second")
	got, err := s.CreateDestination(ctx(t), again)
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("second CreateDestination: error = %v, want store.ErrExists", err)
	}
	if !sameDestination(got, store.TenantDestination{}) {
		t.Errorf("second CreateDestination returned %s, want the zero value", formatDestination(got))
	}
	if err != nil && strings.Contains(err.Error(), "v1.sealed") {
		t.Errorf("error quotes the config: %v", err)
	}
	if got := getDestination(t, s, "acme", "hook"); !sameDestination(got, first) {
		t.Errorf("Destination after failed create = %s,\nwant %s", formatDestination(got), formatDestination(first))
	}
}

// testDestinationCreateConcurrent creates one destination from several goroutines at once:
// exactly one wins.
func testDestinationCreateConcurrent(t *testing.T, s DestinationLedger) {
	const n = 4
	c := ctx(t)
	var (
		wg              sync.WaitGroup
		mu              sync.Mutex
		created, exists int
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := destination("acme", "hook")
			d.Config = []byte(fmt.Sprintf("v1.sealed-%d", i))
			_, err := s.CreateDestination(c, d)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.Is(err, store.ErrExists):
				exists++
			default:
				t.Errorf("CreateDestination %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if created != 1 || exists != n-1 {
		t.Errorf("concurrent creates: %d created, %d ErrExists; want 1 and %d", created, exists, n-1)
	}
}

// testDestinationNotFound checks every call on a destination that does not exist.
func testDestinationNotFound(t *testing.T, s DestinationLedger) {
	create(t, s, destination("acme", "exists"))
	c := ctx(t)
	if _, err := s.Destination(c, "acme", "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Destination: error = %v, want store.ErrNotFound", err)
	}
	if _, err := s.UpdateDestination(c, destination("acme", "missing")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateDestination: error = %v, want store.ErrNotFound", err)
	}
	if _, err := s.SetEnabled(c, "acme", "missing", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetEnabled: error = %v, want store.ErrNotFound", err)
	}
	if err := s.DeleteDestination(c, "acme", "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteDestination: error = %v, want store.ErrNotFound", err)
	}
	// Nothing above created the missing destination.
	if list := listDestinations(t, s, ""); len(list) != 1 || list[0].ID != "exists" {
		t.Errorf("ListDestinations = %d destinations, want only %q", len(list), "exists")
	}
}

// testDestinationInvalid checks that a destination without its keys or channel is refused
// and nothing is written.
func testDestinationInvalid(t *testing.T, s DestinationLedger) {
	create(t, s, destination("acme", "hook"))
	for name, mutate := range map[string]func(*store.TenantDestination){
		"no tenant":  func(d *store.TenantDestination) { d.Tenant = "" },
		"no id":      func(d *store.TenantDestination) { d.ID = "" },
		"no channel": func(d *store.TenantDestination) { d.Channel = "" },
	} {
		d := destination("acme", "hook")
		mutate(&d)
		if _, err := s.CreateDestination(ctx(t), d); !errors.Is(err, store.ErrInvalidDestination) {
			t.Errorf("CreateDestination(%s): error = %v, want store.ErrInvalidDestination", name, err)
		}
		if _, err := s.UpdateDestination(ctx(t), d); !errors.Is(err, store.ErrInvalidDestination) {
			t.Errorf("UpdateDestination(%s): error = %v, want store.ErrInvalidDestination", name, err)
		}
	}
	if list := listDestinations(t, s, ""); len(list) != 1 || list[0].Channel != "webhook" {
		t.Errorf("ListDestinations = %v, want only the valid destination unchanged", list)
	}
}

// testDestinationTenantsIsolated gives two tenants a destination with the same ID and checks
// that nothing done as one tenant reaches the other's.
func testDestinationTenantsIsolated(t *testing.T, s DestinationLedger) {
	a := create(t, s, destination("tenant-a", "hook"))
	b := create(t, s, destination("tenant-b", "hook"))
	if _, err := s.Destination(ctx(t), "tenant-c", "hook"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Destination as another tenant: error = %v, want store.ErrNotFound", err)
	}
	if list := listDestinations(t, s, "tenant-c"); len(list) != 0 {
		t.Errorf("ListDestinations(tenant-c) = %d destinations, want none", len(list))
	}
	if got := getDestination(t, s, "tenant-b", "hook"); !bytes.Equal(got.Config, b.Config) {
		t.Errorf("tenant-b's config = %q, want %q", got.Config, b.Config)
	}

	u := a
	u.Channel, u.Config, u.EventTypes = "slack", []byte("v1.sealed-changed"), []string{"user.created"}
	if _, err := s.UpdateDestination(ctx(t), u); err != nil {
		t.Fatalf("UpdateDestination(tenant-a): %v", err)
	}
	if _, err := s.SetEnabled(ctx(t), "tenant-a", "hook", false); err != nil {
		t.Fatalf("SetEnabled(tenant-a): %v", err)
	}
	if got := getDestination(t, s, "tenant-b", "hook"); !sameDestination(got, b) {
		t.Errorf("tenant-b's destination after changing tenant-a's = %s,\nwant %s", formatDestination(got), formatDestination(b))
	}
	if list := listDestinations(t, s, "tenant-a"); len(list) != 1 || list[0].Tenant != "tenant-a" || list[0].Channel != "slack" {
		t.Errorf("ListDestinations(tenant-a) = %v, want only tenant-a's updated destination", list)
	}

	if err := s.DeleteDestination(ctx(t), "tenant-a", "hook"); err != nil {
		t.Fatalf("DeleteDestination(tenant-a): %v", err)
	}
	if got := getDestination(t, s, "tenant-b", "hook"); !sameDestination(got, b) {
		t.Errorf("tenant-b's destination after deleting tenant-a's = %s,\nwant %s", formatDestination(got), formatDestination(b))
	}
	if err := s.DeleteDestination(ctx(t), "tenant-a", "hook"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting tenant-a's destination again: error = %v, want store.ErrNotFound", err)
	}
}

// testDestinationRoundTrip checks that config bytes and event types come back exactly as
// written, empty and nil included, through create, update and list.
func testDestinationRoundTrip(t *testing.T, s DestinationLedger) {
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i) // NUL, invalid UTF-8 and all: a sealed token is opaque bytes
	}
	type roundTrip struct {
		name       string
		config     []byte
		eventTypes []string
	}
	tests := []roundTrip{
		{"nil", nil, nil},
		{"empty", []byte{}, []string{}},
		{"binary", binary, []string{"payment.failed"}},
		{"several types in order", []byte(`{"url":"https://example.com"}`), []string{"z.last", "a.first", "m.middle", "a.first"}},
		{"awkward types", []byte("x"), []string{"", `quote"d`, "comma,brace{}", "ünïcode", "back\\slash"}},
	}
	for _, tc := range tests {
		d := destination("acme", tc.name)
		d.Config, d.EventTypes = tc.config, tc.eventTypes
		check := func(op string, got store.TenantDestination) {
			t.Helper()
			if got.Config == nil || !bytes.Equal(got.Config, tc.config) {
				t.Errorf("%s: %s: config = %q, want %q (empty, not nil)", tc.name, op, got.Config, tc.config)
			}
			if got.EventTypes == nil || !slices.Equal(got.EventTypes, tc.eventTypes) {
				t.Errorf("%s: %s: event types = %q, want %q (empty, not nil)", tc.name, op, got.EventTypes, tc.eventTypes)
			}
		}
		check("CreateDestination", create(t, s, d))
		check("Destination", getDestination(t, s, "acme", tc.name))

		// Update from something else to the values under test.
		if _, err := s.UpdateDestination(ctx(t), destination("acme", tc.name)); err != nil {
			t.Fatalf("UpdateDestination: %v", err)
		}
		updated, err := s.UpdateDestination(ctx(t), d)
		if err != nil {
			t.Fatalf("UpdateDestination: %v", err)
		}
		check("UpdateDestination", updated)
		check("Destination after update", getDestination(t, s, "acme", tc.name))
	}
	list := listDestinations(t, s, "acme")
	if len(list) != len(tests) {
		t.Fatalf("ListDestinations = %d destinations, want %d", len(list), len(tests))
	}
	for _, got := range list {
		i := slices.IndexFunc(tests, func(tc roundTrip) bool { return tc.name == got.ID })
		if i < 0 {
			t.Errorf("ListDestinations returned unknown %s", formatDestination(got))
			continue
		}
		if got.Config == nil || !bytes.Equal(got.Config, tests[i].config) || got.EventTypes == nil || !slices.Equal(got.EventTypes, tests[i].eventTypes) {
			t.Errorf("ListDestinations: %s, want config %q and types %q", formatDestination(got), tests[i].config, tests[i].eventTypes)
		}
	}
}

// testDestinationList checks the order of lists, by tenant then ID in byte order, and the
// tenant filter.
func testDestinationList(t *testing.T, s DestinationLedger) {
	if list := listDestinations(t, s, ""); len(list) != 0 {
		t.Errorf("ListDestinations on an empty store = %d destinations, want none", len(list))
	}
	// Created out of order; byte order puts upper case before lower case and "a" before "a-".
	keys := [][2]string{
		{"beta", "b"}, {"alpha", "zz"}, {"beta", "A"}, {"alpha", "a-1"},
		{"Zulu", "x"}, {"alpha", "a"}, {"alpha", "B"}, {"beta", "a"},
	}
	stored := map[[2]string]store.TenantDestination{}
	for _, k := range keys {
		stored[k] = create(t, s, destination(k[0], k[1]))
	}
	names := func(list []store.TenantDestination) string {
		var out []string
		for _, d := range list {
			out = append(out, d.Tenant+"/"+d.ID)
			if want := stored[[2]string{d.Tenant, d.ID}]; !sameDestination(d, want) {
				t.Errorf("listed %s,\nwant %s", formatDestination(d), formatDestination(want))
			}
		}
		return strings.Join(out, " ")
	}
	for _, tc := range []struct{ tenant, want string }{
		{"", "Zulu/x alpha/B alpha/a alpha/a-1 alpha/zz beta/A beta/a beta/b"},
		{"alpha", "alpha/B alpha/a alpha/a-1 alpha/zz"},
		{"beta", "beta/A beta/a beta/b"},
		{"Zulu", "Zulu/x"},
		{"zulu", ""},
	} {
		if got := names(listDestinations(t, s, tc.tenant)); got != tc.want {
			t.Errorf("ListDestinations(%q) = %s, want %s", tc.tenant, got, tc.want)
		}
	}
}

// suiteCase is one named test of a suite over a store of type S.
type suiteCase[S any] struct {
	name string
	run  func(t *testing.T, s S)
}

// runSuite runs each case in parallel, on its own store from newStore, migrated first.
func runSuite[S interface{ Migrate(context.Context) error }](t *testing.T, newStore func(t *testing.T) S, cases []suiteCase[S]) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if err := s.Migrate(ctx(t)); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			tc.run(t, s)
		})
	}
}
