package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/broker"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func delivery(ev, dest string, status, ms int) arrival {
	return arrival{WebhookID: broker.DeliveryID(ev, dest), Dest: dest, EventID: ev, Status: status, At: at(ms)}
}

func deadDelivery(ev, dest string) deadLetter {
	return deadLetter{Subject: "herald.dead.webhook.acme", Header: nats.Header{
		broker.HeaderEventID: {ev}, broker.HeaderDestination: {dest}}}
}

func deadEvent(id string) deadLetter {
	return deadLetter{Subject: "herald.dead.invalid.acme", Header: nats.Header{"Nats-Msg-Id": {id + ":dead"}}}
}

func TestTallyCountsLossDuplicatesAndHealthyDead(t *testing.T) {
	t.Parallel()
	exp := expectation{
		published: map[string]time.Time{"e1": at(0), "e2": at(10), "e3": at(20)},
		healthy:   []string{"d0", "d1"},
		start:     at(0), end: at(60000),
	}
	wrongID := delivery("e2", "d1", 204, 40)
	wrongID.WebhookID = "e2:elsewhere"
	arrivals := []arrival{
		delivery("e1", "d0", 500, 5), // a failed attempt is no delivery
		delivery("e1", "d0", 204, 30),
		delivery("e1", "d0", 204, 90), // a duplicate under the same webhook-id
		delivery("e1", "d1", 204, 31),
		delivery("e2", "d0", 204, 35),
		wrongID,                            // delivered, but under another webhook-id
		delivery("e3", "d1", 204, 50),      // e3 never reaches d0: lost
		delivery("e3", "slow", 204, 51),    // not a healthy destination
		delivery("unacked", "d0", 204, 52), // an event that does not count
	}
	dead := []deadLetter{
		deadDelivery("e3", "d0"),   // healthy, in DEAD
		deadDelivery("e1", "slow"), // the slow destination's: expected
		deadEvent("e2"),            // a good event refused as invalid
		deadEvent("bad-x-1"),       // a malformed one: expected
	}
	var r Result
	tally(&r, exp, arrivals, dead)
	want := Result{Events: 3, Expected: 6, Delivered: 5, Lost: 1, Duplicates: 1, DupsSameID: false,
		Dead: 4, HealthyInDead: 2, Drained: false, DrainSeconds: 60}
	got := r
	got.P99MS, got.MaxMS = 0, 0
	if !equalJSON(got, want) {
		t.Errorf("tally =\n%+v\nwant\n%+v", got, want)
	}
	if r.MaxMS != 31 { // e1 reached d1 31 ms after its publish, the slowest first delivery
		t.Errorf("max latency %v ms, want 31", r.MaxMS)
	}
}

func TestTallyDrained(t *testing.T) {
	t.Parallel()
	exp := expectation{published: map[string]time.Time{}, healthy: []string{"d0"}, start: at(0), end: at(99999)}
	var arrivals []arrival
	for i := range 100 {
		id := "e" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		exp.published[id] = at(i)
		arrivals = append(arrivals, delivery(id, "d0", 200, i+i+1)) // latency i+1 ms
	}
	var r Result
	tally(&r, exp, arrivals, nil)
	if !r.Drained || r.Lost != 0 || r.Delivered != 100 || !r.DupsSameID || r.Duplicates != 0 {
		t.Fatalf("tally = %+v, want all 100 delivered once", r)
	}
	if r.P99MS != 100 || r.MaxMS != 100 {
		t.Errorf("p99 %v ms, max %v ms, want 100 and 100", r.P99MS, r.MaxMS)
	}
	if r.DrainSeconds != 0.199 { // the last arrival, 199 ms after the first publish
		t.Errorf("drain %v s, want 0.199", r.DrainSeconds)
	}
}

func TestTallyNothingExpected(t *testing.T) {
	t.Parallel()
	var r Result
	tally(&r, expectation{start: at(0), end: at(5)}, nil, nil)
	if r.Expected != 0 || r.Lost != 0 || !r.Drained || !r.DupsSameID || r.DrainSeconds != 0 {
		t.Errorf("tally of nothing = %+v", r)
	}
}

func TestVerdict(t *testing.T) {
	t.Parallel()
	good := func() Result { return Result{Expected: 10, Delivered: 10, DupsSameID: true, Drained: true} }
	cases := []struct {
		name string
		mod  func(*Result)
		pass bool
	}{
		{"clean", func(*Result) {}, true},
		{"duplicates under one id pass", func(r *Result) { r.Duplicates = 3 }, true},
		{"dead letters of unhealthy destinations pass", func(r *Result) { r.Dead = 5 }, true},
		{"a lost event", func(r *Result) { r.Lost, r.Delivered = 1, 9 }, false},
		{"a healthy delivery in DEAD", func(r *Result) { r.Dead, r.HealthyInDead = 1, 1 }, false},
		{"a duplicate under another id", func(r *Result) { r.Duplicates, r.DupsSameID = 1, false }, false},
		{"a failed check", func(r *Result) { r.check("x", false, "why") }, false},
		{"passed checks", func(r *Result) { r.check("x", true, "") }, true},
		{"a harness error", func(r *Result) { r.Error = "no nats" }, false},
		{"a stall", func(r *Result) { r.MaxMS = 31000; r.checkStall(30 * time.Second) }, false},
		{"no stall", func(r *Result) { r.MaxMS = 29000; r.checkStall(30 * time.Second) }, true},
	}
	for _, c := range cases {
		r := good()
		c.mod(&r)
		r.verdict()
		if r.Pass != c.pass {
			t.Errorf("%s: pass = %v, want %v (failures %v)", c.name, r.Pass, c.pass, r.failures())
		}
		if !r.Pass && len(r.failures()) == 0 {
			t.Errorf("%s: failed without saying why", c.name)
		}
	}
}

func TestReport(t *testing.T) {
	t.Parallel()
	ok := &Result{Scenario: "workers-killed", Summary: "kill", Events: 1000, Expected: 1000, Delivered: 1000,
		Duplicates: 4, DupsSameID: true, Drained: true, DrainSeconds: 12.34, P99MS: 250, MaxMS: 31000}
	ok.check("ledger agrees with the receiver", true, "1000 rows")
	ok.verdict()
	bad := &Result{Scenario: "slow-destination", Events: 10, Expected: 90, Delivered: 80, Lost: 10, DupsSameID: true, DrainSeconds: 60}
	bad.check("the slow destination's circuit opened", false, "notifications_circuit_opened_total = 0")
	bad.verdict()
	rep := &Report{Command: "go run ./cmd/herald-chaos -scale ci", Scale: "ci", Started: t0, Seconds: 200, Results: []*Result{ok, bad}}
	if rep.Pass() {
		t.Error("a report with a failed scenario passes")
	}
	md := rep.Markdown()
	for _, want := range []string{
		"| scenario | events | delivered | lost | duplicates | dups same id | dead | healthy in dead | time to drain | p99 | max | result |",
		"| workers-killed | 1000 | 1000/1000 | 0 | 4 | yes | 0 | 0 | 12.3 s | 250 ms | 31.0 s | pass |",
		"| slow-destination | 10 | 80/90 | 10 | 0 | yes | 0 | 0 | **not drained** (gave up after 60.0 s) | 0 ms | 0 ms | **FAIL** |",
		"- the slow destination's circuit opened: **FAILED** (notifications_circuit_opened_total = 0)",
		"- ledger agrees with the receiver: ok (1000 rows)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	dir := filepath.Join(t.TempDir(), "out")
	if err := rep.Write(dir, md); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Results) != 2 || back.Results[1].Pass || back.Results[1].Lost != 10 {
		t.Errorf("results.json does not round-trip: %v\n%s", err, b)
	}
	if (&Report{}).Pass() {
		t.Error("a report of no scenario passes")
	}
}

func TestMalformedBarrage(t *testing.T) {
	t.Parallel()
	bad := malformed(2)
	if len(bad) != 2*len(malformedKinds) {
		t.Fatalf("%d messages, want %d", len(bad), 2*len(malformedKinds))
	}
	ids := map[string]bool{}
	body := map[string][]byte{}
	for _, m := range bad {
		if ids[m.id] || m.good || m.msg.Header.Get(probeHeader) != m.id || m.msg.Header.Get("Nats-Msg-Id") != m.id {
			t.Errorf("message %s: repeated, counted or unmarked", m.id)
		}
		ids[m.id] = true
		body[kindOf(m.id)] = m.msg.Data
		if !strings.HasPrefix(m.msg.Subject, "herald.events.acme.") {
			t.Errorf("%s on %s", m.id, m.msg.Subject)
		}
	}
	if len(body["empty-body"]) != 0 || json.Valid(body["invalid-json"]) || json.Valid(body["not-json"]) {
		t.Error("the empty and invalid bodies are not what they say")
	}
	if len(body["string-of-2MiB"]) < 2<<20 || !json.Valid(body["string-of-2MiB"]) {
		t.Errorf("the 2 MiB body is %d bytes", len(body["string-of-2MiB"]))
	}
	if !bytes.Contains(body["nesting-10000-levels"], []byte(strings.Repeat("[", 10000)+"]")) || bytes.Contains(body["nesting-10000-levels"], []byte("@@")) {
		t.Error("the nesting body does not nest 10,000 levels")
	}
	if utf8.Valid(body["non-utf8"]) || !bytes.Contains(body["non-utf8"], []byte("\xff\xfe")) {
		t.Error("the non-UTF-8 body is valid UTF-8")
	}
	for _, k := range []string{"id-not-a-string", "missing-type", "type-a-number"} {
		if !json.Valid(body[k]) {
			t.Errorf("%s is not JSON: the barrage must spoil one thing at a time", k)
		}
	}
	good := make([]outgoing, 10)
	mixed := interleave(good, bad[:3])
	if got := positions(mixed); len(mixed) != 13 || !slices.Equal(got, []int{0, 4, 8}) {
		t.Errorf("interleave put the malformed ones at %v of %d, want 0, 4 and 8 of 13", got, len(mixed))
	}
}

func positions(ms []outgoing) []int {
	var out []int
	for i, m := range ms {
		if m.id != "" {
			out = append(out, i)
		}
	}
	return out
}

func TestSearchNamesSecretsWithoutShowingThem(t *testing.T) {
	t.Parallel()
	known := map[string]string{"discord token": "tok_ABCDEFGHIJKLMNOP", "admin token": "adm_ZYXWVUTSRQPONMLK"}
	hits := search([]string{"GET /api/webhooks/1/tok_ABCDEFGHIJKLMNOP failed", "tok_ABCDEFGHIJKLMNOP again", "clean"}, known)
	if hits["discord token"] != 2 || hits["admin token"] != 0 {
		t.Errorf("hits = %v", hits)
	}
	d := hitsDetail(hits)
	if !strings.Contains(d, "discord token ×2") || strings.Contains(d, "tok_") {
		t.Errorf("detail %q must name the secret, never show it", d)
	}
	if hitsDetail(nil) != "" {
		t.Error("a detail for no hits")
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-scale", "huge"}, {"-run", "["}, {"-run", "^nothing$"}, {"-nope"}} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("run %v = %d, want 2 (%s)", args, code, errb.String())
		}
	}
	if got := pick(regexp.MustCompile("cluster|leaders|secrets")); len(got) != 2 || got[0].name != "leaders-killed" || got[1].name != "secrets" {
		t.Errorf("pick = %v", got)
	}
	if len(pick(regexp.MustCompile(""))) != len(scenarios) {
		t.Error("an empty -run does not pick every scenario")
	}
	for name, sc := range scales {
		if sc.Name != name || sc.Drain <= 0 || sc.KillEvery <= 0 || sc.Outage <= 0 {
			t.Errorf("scale %s is incomplete: %+v", name, sc)
		}
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	if quantileMS(nil, 0.99) != 0 {
		t.Error("quantile of nothing")
	}
	ds := []time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond}
	if quantileMS(ds, 1) != 3 || quantileMS(ds, 0) != 1 || quantileMS(ds, 0.5) != 2 {
		t.Errorf("quantiles of 1, 2, 3 ms: %v %v %v", quantileMS(ds, 0), quantileMS(ds, 0.5), quantileMS(ds, 1))
	}
	if ds[0] != 3*time.Millisecond {
		t.Error("quantileMS sorted its argument")
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestSumMetric(t *testing.T) {
	t.Parallel()
	text := `# HELP notifications_circuit_opened_total Times a circuit opened.
# TYPE notifications_circuit_opened_total counter
notifications_circuit_opened_total{channel="webhook"} 2
notifications_circuit_opened_total{channel="slack"} 1
notifications_circuit_opened_total_extra 40
notifications_circuit_opened_total
other 7`
	if got := sumMetric(text, "notifications_circuit_opened_total"); got != 3 {
		t.Errorf("sumMetric = %v, want 3", got)
	}
	if got := sumMetric(text, "absent"); got != 0 {
		t.Errorf("sumMetric of an absent metric = %v", got)
	}
}
