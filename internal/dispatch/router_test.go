package dispatch

import (
	"slices"
	"strconv"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/config"
)

func TestRouter(t *testing.T) {
	t.Parallel()
	dests := []channel.Destination{
		{ID: "webhook", Channel: "webhook"},
		{ID: "audit", Channel: "webhook"},
		{ID: "slack", Channel: "slack"},
	}
	ids := func(ds []channel.Destination) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	t.Run("no rules: every destination", func(t *testing.T) {
		t.Parallel()
		r := NewRouter(dests, nil)
		if got := ids(r.Route("payment.failed")); !slices.Equal(got, []string{"webhook", "audit", "slack"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("rules", func(t *testing.T) {
		t.Parallel()
		r := NewRouter(dests, []config.Route{
			{Pattern: "payment.*", Targets: []string{"slack", "audit"}},
			{Pattern: "*", Targets: []string{"audit"}},
			{Pattern: "node.*", Targets: []string{"webhook"}},
		})
		cases := map[string][]string{
			"payment.failed": {"audit", "slack"},
			"node.launched":  {"webhook", "audit"},
			"tenant.created": {"audit"},
		}
		for typ, want := range cases {
			for range 2 { // the second answer comes from the cache
				if got := ids(r.Route(typ)); !slices.Equal(got, want) {
					t.Errorf("%s: got %v, want %v", typ, got, want)
				}
			}
		}
	})
	t.Run("channel name means all its destinations", func(t *testing.T) {
		t.Parallel()
		r := NewRouter(dests, []config.Route{{Pattern: "*", Targets: []string{"webhook"}}})
		if got := ids(r.Route("x.y")); !slices.Equal(got, []string{"webhook", "audit"}) {
			t.Errorf("got %v", got)
		}
	})
	t.Run("nothing matches", func(t *testing.T) {
		t.Parallel()
		r := NewRouter(dests, []config.Route{{Pattern: "node.*", Targets: []string{"slack"}}})
		if got := r.Route("payment.failed"); len(got) != 0 {
			t.Errorf("got %v, want none", got)
		}
	})
}

func BenchmarkRoute(b *testing.B) {
	r := NewRouter([]channel.Destination{{ID: "a", Channel: "webhook"}, {ID: "b", Channel: "slack"}},
		[]config.Route{{Pattern: "payment.*", Targets: []string{"a"}}, {Pattern: "*", Targets: []string{"b"}}})
	b.ReportAllocs()
	for b.Loop() {
		r.Route("payment.failed")
	}
}

// TestRouterCacheIsBounded: producers choose event types, so the per-type cache must not
// grow with every type they invent; routing stays right across evictions.
func TestRouterCacheIsBounded(t *testing.T) {
	t.Parallel()
	r := NewRouter([]channel.Destination{{ID: "a", Channel: "webhook"}, {ID: "b", Channel: "slack"}},
		[]config.Route{{Pattern: "payment.*", Targets: []string{"a"}}, {Pattern: "*", Targets: []string{"b"}}})
	for i := range 5 * maxCachedTypes {
		typ := "custom.t" + strconv.Itoa(i)
		if got := r.Route(typ); len(got) != 1 || got[0].ID != "b" {
			t.Fatalf("%s routed to %v", typ, got)
		}
		if got := r.Route("payment.failed"); len(got) != 2 {
			t.Fatalf("payment.failed routed to %v after %d types", got, i)
		}
	}
	n := 0
	r.cache.Range(func(any, any) bool { n++; return true })
	if n > maxCachedTypes {
		t.Errorf("cache holds %d types, more than %d", n, maxCachedTypes)
	}
}
