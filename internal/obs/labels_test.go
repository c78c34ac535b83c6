package obs

import (
	"strconv"
	"testing"

	"github.com/heraldhq/herald/sdk"
)

func TestEventTypesLabel(t *testing.T) {
	t.Parallel()
	types := NewEventTypes("order.shipped", "payment.*", "*", "node.?", "ship[ping]", `a\b`, "not a type", "")
	cases := map[string]string{
		"payment.failed":              "payment.failed",
		"ratelimit.threshold_reached": "ratelimit.threshold_reached",
		"herald.test":                 "herald.test",
		"order.shipped":               "order.shipped", // named by the operator
		"payment.refunded":            "other",         // matches a glob, but globs name no type
		"node.x":                      "other",
		"order.shipped.late":          "other",
		"":                            "other",
		"not a type":                  "other",
		"payment.*":                   "other",
	}
	for in, want := range cases {
		if got := types.Label(in); got != want {
			t.Errorf("Label(%q) = %q, want %q", in, got, want)
		}
	}
	for _, typ := range sdk.KnownTypes() {
		if got := types.Label(typ); got != typ {
			t.Errorf("seed type %s labelled %q", typ, got)
		}
	}
	var none *EventTypes // a nil set knows the seed types and herald.test
	if none.Label("payment.failed") != "payment.failed" || none.Label("herald.test") != "herald.test" || none.Label("order.shipped") != "other" {
		t.Error("nil EventTypes does not label as the default set")
	}
}

// TestEventTypesBoundsSeries: however many types producers invent, the label takes at most
// the known types plus "other".
func TestEventTypesBoundsSeries(t *testing.T) {
	t.Parallel()
	types := NewEventTypes("order.shipped")
	seen := map[string]bool{}
	for i := range 500 {
		seen[types.Label("custom.type"+strconv.Itoa(i))] = true
	}
	for _, typ := range append(sdk.KnownTypes(), "order.shipped", "herald.test") {
		seen[types.Label(typ)] = true
	}
	if want := len(sdk.KnownTypes()) + 3; len(seen) != want {
		t.Errorf("%d distinct labels, want %d: %v", len(seen), want, seen)
	}
}

func BenchmarkEventTypesLabel(b *testing.B) {
	types := NewEventTypes("order.shipped")
	b.ReportAllocs()
	for b.Loop() {
		if types.Label("payment.failed") != "payment.failed" || types.Label("x.y") != OtherEventType {
			b.Fatal("wrong label")
		}
	}
}
