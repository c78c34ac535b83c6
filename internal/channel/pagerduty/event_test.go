package pagerduty

import (
	"encoding/json"
	"flag"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/pagerduty/pagerdutytest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenKey is the made-up routing key of the goldens.
const goldenKey = "u7Kq2ZpW9xLm4RtB8vNc3HdY6fJs1GaE"

// checkEvent fails the test unless body is an event PagerDuty accepts.
func checkEvent(t testing.TB, body []byte) *pagerdutytest.Event {
	t.Helper()
	ev, err := pagerdutytest.ValidateEvent(body)
	if err != nil {
		t.Fatalf("PagerDuty would refuse the event: %v\n%.2000s", err, body)
	}
	return ev
}

// TestGolden compares the exact body posted for every sample event with its golden file.
// Run go test ./internal/channel/pagerduty -update to rewrite them after a template change.
func TestGolden(t *testing.T) {
	t.Parallel()
	ch := New(nil, defaultTemplates())
	for _, ev := range render.Samples() {
		t.Run(ev.Type, func(t *testing.T) {
			t.Parallel()
			e, err := ch.event(channel.Notification{DeliveryID: ev.ID + ":golden", Attempt: 1, Event: ev}, goldenKey)
			if err != nil {
				t.Fatal(err)
			}
			body, err := encode(e)
			if err != nil {
				t.Fatal(err)
			}
			checkEvent(t, body)
			channeltest.GoldenJSON(t, filepath.Join("testdata", "golden", ev.Type+".json"), body, *update)
		})
	}
}

// TestAlertOf pins the documented mapping of events to alerts.
func TestAlertOf(t *testing.T) {
	t.Parallel()
	ev := func(typ, tenant, data string) *sdk.Event {
		return &sdk.Event{ID: "01JEVENT", Type: typ, TenantID: tenant, Data: json.RawMessage(data)}
	}
	long := strings.Repeat("n", 300)
	cases := []struct {
		name   string
		ev     *sdk.Event
		action string
		key    string
	}{
		{"reclaim", ev("node.terminated", "acme", `{"node_id":"n-1"}`), "trigger", "herald/acme/node/n-1"},
		{"degraded", ev("node.health_degraded", "acme", `{"node_id":"n-1","health_score":0.4}`), "trigger", "herald/acme/node/n-1"},
		{"launch resolves", ev("node.launched", "acme", `{"node_id":"n-1"}`), "resolve", "herald/acme/node/n-1"},
		{"numeric node id", ev("node.launched", "acme", `{"node_id":42}`), "resolve", "herald/acme/node/42"},
		{"no tenant", ev("node.terminated", "", `{"node_id":"n-1"}`), "trigger", "herald/_/node/n-1"},
		{"launch without node", ev("node.launched", "acme", `{"provider":"aws"}`), "trigger", "herald/acme/event/01JEVENT"},
		{"degraded with unreadable data", ev("node.health_degraded", "acme", `[1,2]`), "trigger", "herald/acme/event/01JEVENT"},
		{"payment failed", ev("payment.failed", "acme", `{"tenant_id":"acme"}`), "trigger", "herald/acme/payment"},
		{"payment succeeded resolves", ev("payment.succeeded", "acme", `{}`), "resolve", "herald/acme/payment"},
		{"cost", ev("cost.anomaly_detected", "acme", `{}`), "trigger", "herald/acme/cost"},
		{"rate limit", ev("ratelimit.threshold_reached", "acme", `{}`), "trigger", "herald/acme/ratelimit"},
		{"tenant created", ev("tenant.created", "acme", `{}`), "trigger", "herald/acme/event/01JEVENT"},
		{"custom type", ev("order.shipped", "acme", `{}`), "trigger", "herald/acme/event/01JEVENT"},
		{"custom type named node", ev("node", "acme", `{"node_id":"n-1"}`), "trigger", "herald/acme/event/01JEVENT"},
	}
	for _, c := range cases {
		if got := AlertOf(c.ev); got.Action != c.action || got.DedupKey != c.key {
			t.Errorf("%s: AlertOf = %+v, want %s %s", c.name, got, c.action, c.key)
		}
	}
	a, b := AlertOf(ev("node.terminated", "acme", `{"node_id":"`+long+`"}`)), AlertOf(ev("node.launched", "acme", `{"node_id":"`+long+`"}`))
	if chars(a.DedupKey) > MaxDedupKeyChars || a.DedupKey != b.DedupKey || !strings.HasPrefix(a.DedupKey, "herald/sha256:") {
		t.Errorf("long node id: trigger %q, resolve %q; want one hashed key", a.DedupKey, b.DedupKey)
	}
}

// hostile returns a rendered message and event made of channeltest's hostile pieces: the
// message from channeltest.BigMessage, the event with a hostile id, source and node id (the
// parts of a dedup key), of a type that triggers or resolves.
func hostile(r *rand.Rand, scale int) (*render.Message, *sdk.Event) {
	text := func(n int) string { return channeltest.HostileText(r, n) }
	types := []string{"node.terminated", "node.launched", "payment.failed", "payment.succeeded", "tenant.created", "order.shipped"}
	data, _ := json.Marshal(map[string]string{"node_id": text(r.IntN(scale))})
	ev := &sdk.Event{ID: text(r.IntN(scale)), Source: text(r.IntN(scale)), Type: types[r.IntN(len(types))],
		TenantID: []string{"", "acme"}[r.IntN(2)], Data: data, Time: time.Unix(r.Int64N(4_000_000_000), 0)}
	return channeltest.BigMessage(r, Name, scale), ev
}

// build lays m out as Send would for ev, trigger or resolve.
func build(t testing.TB, m *render.Message, ev *sdk.Event) []byte {
	t.Helper()
	n := channel.Notification{DeliveryID: ev.ID + ":d", Attempt: 1, Event: ev}
	a := AlertOf(ev)
	e := resolve(a, goldenKey)
	if a.Action == actionTrigger {
		e = trigger(n, m, a, goldenKey)
	}
	body, err := encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// TestEventLimitsProperty builds events from many random hostile messages, up to 10 kB a
// text and 40 fields, and checks each against PagerDuty's contract with pagerdutytest.
func TestEventLimitsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	runs := channeltest.Runs(300, 40)
	for i := range runs {
		m, ev := hostile(r, []int{3, 40, 400, 2500}[i%4])
		got := checkEvent(t, build(t, m, ev))
		if got.EventAction == "trigger" && got.Payload.Severity == "error" {
			t.Fatal("Herald never sends PagerDuty's error severity")
		}
	}
}

// TestEventEdgeCases covers shapes the random property may miss.
func TestEventEdgeCases(t *testing.T) {
	t.Parallel()
	ev := &sdk.Event{ID: "01JEDGE", Type: "tenant.created", TenantID: "acme"}
	many := make([]render.Field, 500)
	for i := range many {
		many[i] = render.Field{Name: "same", Value: strings.Repeat("\x01", 10_000)}
	}
	cases := map[string]*render.Message{
		"empty":          {},
		"controls only":  {Title: "\x00\x01", Summary: "\x1b"},
		"emoji title":    {Title: strings.Repeat("🔥", 10_000)},
		"escaped fields": {Title: "t", Fields: many},
		"quoted fields":  {Title: "t", Summary: "s", Fields: []render.Field{{Name: "summary", Value: "a field named summary"}, {Name: "herald", Value: "and herald"}, {Name: "", Value: "unnamed"}}},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body := build(t, m, ev)
			checkEvent(t, body)
			if len(body) > MaxEventBytes {
				t.Fatalf("%d bytes", len(body))
			}
		})
	}
	t.Run("reserved names are kept", func(t *testing.T) {
		e := trigger(channel.Notification{DeliveryID: "x:d", Event: ev}, cases["quoted fields"], AlertOf(ev), goldenKey)
		d := e.Payload.CustomDetails
		if d["summary (2)"] != "a field named summary" || d["herald (2)"] != "and herald" || d["field 3"] != "unnamed" {
			t.Errorf("custom_details = %v", d)
		}
		if h, ok := d["herald"].(map[string]string); !ok || h["event_id"] != "01JEDGE" || h["delivery_id"] != "x:d" {
			t.Errorf("herald = %v", d["herald"])
		}
	})
	t.Run("an oversize event loses its fields", func(t *testing.T) {
		e := trigger(channel.Notification{DeliveryID: "x:d", Event: ev}, &render.Message{Title: "t"}, AlertOf(ev), goldenKey)
		for i := range 200 {
			e.Payload.CustomDetails[strings.Repeat("k", i+1)] = strings.Repeat("\x01", 1000) // escaped: 6 bytes each
		}
		body, err := encode(e)
		if err != nil || len(body) > MaxEventBytes {
			t.Fatalf("%d bytes, %v", len(body), err)
		}
		checkEvent(t, body)
	})
}

func TestCut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello world", 6, "hello…"},
		{"🔥🔥🔥", 4, "🔥…"},
		{"ab \u200dcd", 4, "ab…"},
	}
	for _, c := range cases {
		if got := cut(c.in, c.max); got != c.want || chars(got) > c.max {
			t.Errorf("cut(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

// FuzzEvent checks that no message or event data whatsoever yields an event PagerDuty
// refuses.
func FuzzEvent(f *testing.F) {
	for _, ev := range render.Samples() {
		m, err := defaultTemplates().Render(Name, ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(m.Title, m.Summary, "Name", "value", ev.Type, string(ev.Data), uint8(len(m.Fields)))
	}
	f.Add("\u202e@everyone", "<!channel> *b*", "&amp;", "\xff", "node.launched", `{"node_id":"\u0000"}`, uint8(40))
	f.Fuzz(func(t *testing.T, title, summary, name, value, typ, data string, nfields uint8) {
		grow := channeltest.Grow
		m := &render.Message{Title: grow(title, 1100), Summary: grow(summary, 5000), Severity: sdk.SeverityWarning}
		for range int(nfields) {
			m.Fields = append(m.Fields, render.Field{Name: name, Value: grow(value, 1100)})
		}
		ev := &sdk.Event{ID: "01JFUZZ", Type: typ, TenantID: "acme", Data: json.RawMessage(data), Source: title}
		checkEvent(t, build(t, m, ev))
	})
}

// BenchmarkEvent measures rendering and laying out one notification, as Send does before
// posting.
func BenchmarkEvent(b *testing.B) {
	ch := New(nil, defaultTemplates())
	ev := render.Samples()[4] // node.terminated: a trigger
	n := channel.Notification{DeliveryID: ev.ID + ":bench", Attempt: 1, Event: ev}
	b.ReportAllocs()
	for b.Loop() {
		e, err := ch.event(n, goldenKey)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := encode(e); err != nil {
			b.Fatal(err)
		}
	}
}
