package dispatch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/testutil"
)

// syncBuffer is a log sink that tests read while the dispatcher writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON log lines whose msg is msg.
func (b *syncBuffer) lines(t *testing.T, msg string) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if line["msg"] == msg {
			out = append(out, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read the log: %v", err) // a line over the scanner's limit would be lost
	}
	return out
}

// fixture is a running dispatcher on a real embedded NATS server, with one webhook
// destination that every event is routed to.
type fixture struct {
	js   jetstream.JetStream
	reg  *prometheus.Registry
	logs *syncBuffer
}

func setup(t *testing.T) *fixture {
	t.Helper()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topo := broker.Topology{}
	if err := topo.Apply(ctx, js); err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, IdempotencyBucketConfig("herald", time.Hour, 1))
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := topo.Consumer(broker.StreamEvents, broker.ConsumerDispatcher, "")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, broker.StreamEvents, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{js: js, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	d := New(Config{}, Deps{
		Consumer:    cons,
		Publisher:   js,
		Idempotency: NewIdempotency(kv),
		Router:      NewRouter([]channel.Destination{{ID: "webhook", Channel: "webhook"}}, nil),
		Metrics:     NewMetrics(f.reg),
		Logger:      slog.New(slog.NewJSONHandler(f.logs, nil)),
	})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return f
}

// publish puts a raw event on EVENTS as a plain NATS client would. msgID may be empty.
func (f *fixture) publish(t *testing.T, subject, msgID, body string) {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = []byte(body)
	if msgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := f.js.PublishMsg(ctx, m); err != nil {
		t.Fatalf("publish %s: %v", subject, err)
	}
}

// counter returns the value of a counter of the registry with the given labels, 0 if the
// series does not exist.
func (f *fixture) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if hasLabels(m, labels) {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, lp := range m.GetLabel() {
		got[lp.GetName()] = lp.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return len(got) == len(want)
}

// handled waits until the dispatcher has handled n events, whatever their result.
func (f *fixture) handled(t *testing.T, n int) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, "the dispatcher to handle every event", func() bool {
		total := 0.0
		for _, r := range []string{"dispatched", "duplicate", "unrouted", "invalid"} {
			total += f.counter(t, "notifications_events_total", map[string]string{"result": r})
		}
		return total >= float64(n)
	})
}

// messages reads every message of a stream, in order.
func (f *fixture) messages(t *testing.T, stream string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := f.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("%s #%d: %v", stream, seq, err)
		}
		out = append(out, m)
	}
	return out
}

func nodeTerminated(id, tenant, timeRemaining string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"nodes","type":"node.terminated","tenantid":"` + tenant +
		`","data":{"node_id":"n-42","time_remaining":` + timeRemaining + `,"reason":"spot reclaim"}}`
}

// TestDispatchLenientData: node.terminated published by a plain NATS client with
// time_remaining as "93s", "PT2M", "2m" or 120 is dispatched like any event; so is one whose
// time_remaining cannot be interpreted ("soon"), which is counted and logged, not
// dead-lettered. Every delivery carries the event exactly as published.
func TestDispatchLenientData(t *testing.T) {
	t.Parallel()
	f := setup(t)
	bodies := map[string]string{
		"tr-93s":  nodeTerminated("tr-93s", "acme", `"93s"`),
		"tr-pt2m": nodeTerminated("tr-pt2m", "acme", `"PT2M"`),
		"tr-2m":   nodeTerminated("tr-2m", "acme", `"2m"`),
		"tr-120":  nodeTerminated("tr-120", "acme", `120`),
		"tr-soon": nodeTerminated("tr-soon", "acme", `"soon"`),
	}
	for id, body := range bodies {
		f.publish(t, "herald.events.acme.node.terminated", id, body)
	}
	f.handled(t, len(bodies))

	if n := f.counter(t, "notifications_events_total", map[string]string{"result": "dispatched"}); n != float64(len(bodies)) {
		t.Errorf("%v events dispatched, want %d", n, len(bodies))
	}
	if dead := f.messages(t, broker.StreamDead); len(dead) != 0 {
		t.Errorf("%d events dead-lettered, first: %s", len(dead), dead[0].Header.Get(broker.HeaderDeadReason))
	}
	deliveries := f.messages(t, broker.StreamDeliveries)
	if len(deliveries) != len(bodies) {
		t.Fatalf("%d deliveries, want %d", len(deliveries), len(bodies))
	}
	for _, m := range deliveries {
		id := m.Header.Get(broker.HeaderEventID)
		if string(m.Data) != bodies[id] {
			t.Errorf("delivery of %s carries %s, want the event as published", id, m.Data)
		}
	}
	if n := f.counter(t, "notifications_data_mismatch_total", map[string]string{"event_type": "node.terminated", "field": "time_remaining"}); n != 1 {
		t.Errorf("notifications_data_mismatch_total{node.terminated,time_remaining} = %v, want 1", n)
	}
	lines := f.logs.lines(t, "event data does not fit its type")
	if len(lines) != 1 {
		t.Fatalf("%d mismatch log lines, want 1", len(lines))
	}
	l := lines[0]
	if l["level"] != "WARN" || l["event_id"] != "tr-soon" || l["event_type"] != "node.terminated" || l["field"] != "time_remaining" ||
		!strings.Contains(l["reason"].(string), "not a duration") {
		t.Errorf("mismatch log line %v", l)
	}
}

// nested returns a custom event whose JSON nests depth levels in all, the envelope being
// the first: its data is an object nested depth-1 levels deep, with brackets inside a
// string that a depth check must not count.
func nested(id string, depth int) string {
	data := strings.Repeat(`{"a":`, depth-2) + `{"s":"[[[[{{{{\"[[[["}` + strings.Repeat(`}`, depth-2)
	return `{"specversion":"1.0","id":"` + id + `","source":"test","type":"deep.thing","tenantid":"acme","data":` + data + `}`
}

// TestDispatchRefusesHostileEvents: an event nested deeper than MaxJSONDepth or holding
// invalid UTF-8 is dead-lettered with its reason and counted under a bounded reason; one
// at the limit is dispatched.
func TestDispatchRefusesHostileEvents(t *testing.T) {
	t.Parallel()
	f := setup(t)
	const subject = "herald.events.acme.deep.thing"
	bad := map[string]struct{ body, reason, label string }{
		"deep-65":    {nested("deep-65", 65), "nests deeper than 64", "depth"},
		"deep-10000": {nested("deep-10000", 10000), "nests deeper than 64", "depth"},
		"utf8-data":  {`{"specversion":"1.0","id":"utf8-data","source":"test","type":"deep.thing","tenantid":"acme","data":{"name":"caf` + "\xe9" + `"}}`, "UTF-8", "utf8"},
		"utf8-key":   {`{"specversion":"1.0","id":"utf8-key","source":"test","type":"deep.thing","tenantid":"acme","data":{"` + "\xff\xfe" + `":1}}`, "UTF-8", "utf8"},
	}
	for id, b := range bad {
		f.publish(t, subject, id, b.body)
	}
	f.publish(t, subject, "deep-64", nested("deep-64", 64))
	f.handled(t, len(bad)+1)

	deliveries := f.messages(t, broker.StreamDeliveries)
	if len(deliveries) != 1 || deliveries[0].Header.Get(broker.HeaderEventID) != "deep-64" {
		t.Errorf("%d deliveries, want only deep-64's", len(deliveries))
	}
	dead := f.messages(t, broker.StreamDead)
	if len(dead) != len(bad) {
		t.Fatalf("%d dead letters, want %d", len(dead), len(bad))
	}
	for _, m := range dead {
		var id string
		for k, b := range bad {
			if string(m.Data) == b.body {
				id = k
			}
		}
		if id == "" {
			t.Errorf("dead letter %.60q is none of the hostile events as published", m.Data)
			continue
		}
		if r := m.Header.Get(broker.HeaderDeadReason); !strings.Contains(r, bad[id].reason) {
			t.Errorf("%s: reason %q does not say %q", id, r, bad[id].reason)
		}
	}
	for _, label := range []string{"depth", "utf8"} {
		if n := f.counter(t, "notifications_invalid_events_total", map[string]string{"reason": label}); n != 2 {
			t.Errorf("notifications_invalid_events_total{reason=%q} = %v, want 2", label, n)
		}
	}
}

// TestDispatchEventIdentity: CloudEvents makes source + id unique, and Herald keeps tenants
// apart, so two tenants' events with one id, or one tenant's events of one id from two
// sources, are all dispatched, each once; a late copy of one of them is a duplicate. The
// deliveries keep <event id>:<destination id> as their delivery id (the webhook-id), while
// their Nats-Msg-Ids differ, so that DELIVERIES' duplicate window keeps both.
//
// The events carry distinct Nats-Msg-Ids of their own: EVENTS' duplicate window, keyed by
// what producers set there, is not what this test is about.
func TestDispatchEventIdentity(t *testing.T) {
	t.Parallel()
	f := setup(t)
	event := func(tenant, source string) string {
		return `{"specversion":"1.0","id":"evt-1","source":"` + source + `","type":"payment.failed","tenantid":"` + tenant +
			`","data":{"tenant_id":"` + tenant + `","reason":"card declined","amount":49.99}}`
	}
	f.publish(t, "herald.events.acme.payment.failed", "m1", event("acme", "billing"))
	f.publish(t, "herald.events.globex.payment.failed", "m2", event("globex", "billing"))
	f.publish(t, "herald.events.acme.payment.failed", "m3", event("acme", "crm"))
	f.handled(t, 3)
	f.publish(t, "herald.events.globex.payment.failed", "m4", event("globex", "billing")) // a late retry
	f.handled(t, 4)

	if n := f.counter(t, "notifications_events_total", map[string]string{"result": "dispatched"}); n != 3 {
		t.Errorf("%v events dispatched, want 3", n)
	}
	if n := f.counter(t, "notifications_events_total", map[string]string{"result": "duplicate"}); n != 1 {
		t.Errorf("%v duplicates, want 1", n)
	}
	deliveries := f.messages(t, broker.StreamDeliveries)
	if len(deliveries) != 3 {
		t.Fatalf("%d deliveries, want 3", len(deliveries))
	}
	msgIDs := map[string]bool{}
	for _, m := range deliveries {
		if id := m.Header.Get(broker.HeaderDeliveryID); id != "evt-1:webhook" {
			t.Errorf("delivery id %q, want evt-1:webhook", id)
		}
		msgIDs[m.Header.Get(jetstream.MsgIDHeader)] = true
	}
	if len(msgIDs) != 3 {
		t.Errorf("Nats-Msg-Ids %v, want 3 distinct", msgIDs)
	}
}

// TestDispatchDataNeverDeadLetters: a seed type's data that breaks its type's rules, or is
// no object at all, is dispatched as published and counted by field, never dead-lettered.
func TestDispatchDataNeverDeadLetters(t *testing.T) {
	t.Parallel()
	f := setup(t)
	event := func(id, data string) string {
		return `{"specversion":"1.0","id":"` + id + `","source":"billing","type":"payment.failed","tenantid":"acme","data":` + data + `}`
	}
	cases := map[string]string{
		"pf-ten":     `{"reason":"card declined","amount":"ten"}`, // uninterpretable
		"pf-reason":  `{"amount":5}`,                              // a required field missing
		"pf-text":    `"card declined"`,                           // not an object
		"pf-string":  `{"reason":"x","amount":"49.99"}`,           // fine, as a string
		"pf-neg-ten": `{"reason":"x","amount":"-ten"}`,            // counted once per field
	}
	for id, data := range cases {
		f.publish(t, "herald.events.acme.payment.failed", id, event(id, data))
	}
	f.handled(t, len(cases))
	if n := f.counter(t, "notifications_events_total", map[string]string{"result": "dispatched"}); n != float64(len(cases)) {
		t.Errorf("%v events dispatched, want %d", n, len(cases))
	}
	for field, want := range map[string]float64{"amount": 2, "reason": 1, "data": 1} {
		if n := f.counter(t, "notifications_data_mismatch_total", map[string]string{"event_type": "payment.failed", "field": field}); n != want {
			t.Errorf("notifications_data_mismatch_total{payment.failed,%s} = %v, want %v", field, n, want)
		}
	}
	if dead := f.messages(t, broker.StreamDead); len(dead) != 0 {
		t.Errorf("%d events dead-lettered", len(dead))
	}
}
