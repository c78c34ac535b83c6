package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/childproc"
)

// probeHeader marks a malformed message, so that its dead letter (which keeps the original
// headers) can be found whatever its body.
const probeHeader = "Chaos-Probe"

// badPrefix starts the id of every malformed message.
const badPrefix = "bad-"

// malformedKind is one way to get an event wrong.
type malformedKind struct {
	name string
	// typ is the event type the subject names.
	typ string
	// body returns the message body, given the id to put in it where it has one.
	body func(id string) []byte
}

// envelope is a valid payment.failed event for acme, for the kinds to spoil.
func envelope(id string) map[string]any {
	return map[string]any{
		"specversion": "1.0", "id": id, "source": "herald-chaos", "type": "payment.failed",
		"time": time.Now().UTC().Format(time.RFC3339Nano), "datacontenttype": "application/json",
		"tenantid": "acme", "severity": "warning",
		"data": map[string]any{"tenant_id": "acme", "reason": "card declined", "amount": 1.5},
	}
}

// spoil returns a kind whose body is the envelope changed by f, as JSON.
func spoil(name, typ string, f func(map[string]any)) malformedKind {
	return malformedKind{name: name, typ: typ, body: func(id string) []byte {
		ev := envelope(id)
		f(ev)
		b, _ := json.Marshal(ev)
		return b
	}}
}

// raw returns a kind whose body is the envelope with the JSON string "@@" replaced by text.
func raw(name, typ string, f func(map[string]any), text []byte) malformedKind {
	k := spoil(name, typ, f)
	b := k.body
	k.body = func(id string) []byte { return bytes.Replace(b(id), []byte(`"@@"`), text, 1) }
	return k
}

// malformedKinds are the barrage: invalid JSON, wrong types in envelope attributes,
// missing attributes, 2 MiB strings, 10,000-level nesting, non-UTF-8 and an empty body. A
// payload that does not fit its type is not among them: the dispatcher delivers it (and
// counts the mismatch), since its data is the producer's business.
var malformedKinds = []malformedKind{
	{name: "invalid-json", typ: "payment.failed", body: func(id string) []byte {
		return []byte(`{"specversion":"1.0","id":"` + id + `","type":"payment.failed",`)
	}},
	{name: "not-json", typ: "payment.failed", body: func(string) []byte { return []byte("payment failed, card declined") }},
	{name: "json-array", typ: "payment.failed", body: func(string) []byte { return []byte(`[1,2,3]`) }},
	{name: "empty-body", typ: "payment.failed", body: func(string) []byte { return nil }},
	spoil("id-not-a-string", "payment.failed", func(ev map[string]any) { ev["id"] = 12345 }),
	spoil("time-not-a-time", "payment.failed", func(ev map[string]any) { ev["time"] = true }),
	spoil("specversion-a-number", "payment.failed", func(ev map[string]any) { ev["specversion"] = 1.0 }),
	spoil("tenantid-an-object", "payment.failed", func(ev map[string]any) { ev["tenantid"] = map[string]any{"id": "acme"} }),
	spoil("severity-a-number", "payment.failed", func(ev map[string]any) { ev["severity"] = 3 }),
	spoil("type-a-number", "payment.failed", func(ev map[string]any) { ev["type"] = 7 }),
	spoil("source-an-array", "payment.failed", func(ev map[string]any) { ev["source"] = []string{"billing"} }),
	spoil("missing-id", "payment.failed", func(ev map[string]any) { delete(ev, "id") }),
	spoil("missing-type", "payment.failed", func(ev map[string]any) { delete(ev, "type") }),
	spoil("missing-source", "payment.failed", func(ev map[string]any) { delete(ev, "source") }),
	spoil("missing-specversion", "payment.failed", func(ev map[string]any) { delete(ev, "specversion") }),
	spoil("string-of-2MiB", "chaos.big", func(ev map[string]any) {
		ev["type"] = "chaos.big"
		ev["data"] = map[string]any{"blob": strings.Repeat("x", 2<<20)}
	}),
	raw("nesting-10000-levels", "chaos.deep", func(ev map[string]any) {
		ev["type"] = "chaos.deep"
		ev["data"] = map[string]any{"deep": "@@"}
	}, []byte(strings.Repeat("[", 10000)+strings.Repeat("]", 10000))),
	raw("non-utf8", "payment.failed", func(ev map[string]any) {
		ev["data"].(map[string]any)["reason"] = "@@"
	}, []byte("\"card \xff\xfe declined\"")),
}

// malformed builds each kind each times, on herald.events.acme.<type>, with ids bad-<kind>-<n>.
func malformed(each int) []outgoing {
	var out []outgoing
	for i := range each {
		for _, k := range malformedKinds {
			id := badPrefix + k.name + "-" + strconv.Itoa(i+1)
			m := &nats.Msg{Subject: "herald.events.acme." + k.typ, Data: k.body(id),
				Header: nats.Header{jetstream.MsgIDHeader: {id}, probeHeader: {id}}}
			out = append(out, outgoing{id: id, msg: m})
		}
	}
	return out
}

// interleave spreads bad among good, evenly.
func interleave(good, bad []outgoing) []outgoing {
	out := make([]outgoing, 0, len(good)+len(bad))
	step := max(1, len(good)/max(1, len(bad)))
	for i, g := range good {
		if i%step == 0 && len(bad) > 0 {
			out = append(out, bad[0])
			bad = bad[1:]
		}
		out = append(out, g)
	}
	return append(out, bad...)
}

// malformedEvents: every good event delivered, every malformed one in DEAD on
// herald.dead.invalid.acme with its reason, and no process exits.
func malformedEvents(ctx context.Context, s *suite, r *Result) error {
	e, err := s.webhookEnv(ctx, "malformed-events", 1, 1, map[string]behaviour{"d0": answer(http.StatusNoContent)}, patient)
	if err != nil {
		return err
	}
	defer e.close()
	good, err := goodEvents(s.sc.GoodEvents)
	if err != nil {
		return err
	}
	bad := malformed(s.sc.BadEach)
	pub := newPublisher(e.js)
	pub.publish(ctx, interleave(good, bad), 0, 4)
	exp, dead, err := e.settle(ctx, r, pub, []string{"d0"}, s.sc.Drain)
	if err != nil {
		return err
	}
	// Dead letters of malformed events come from the dispatcher as it meets them; wait for
	// the last ones.
	var probes map[string]deadLetter
	found := func(dead []deadLetter) map[string]deadLetter {
		out := map[string]deadLetter{}
		for _, d := range dead {
			if id := d.Header.Get(probeHeader); id != "" {
				out[id] = d
			}
		}
		return out
	}
	_ = childproc.WaitEvery(ctx, 10*time.Second, 250*time.Millisecond, "the malformed events in DEAD", func() bool {
		if probes = found(dead); len(probes) >= len(bad) {
			return true
		}
		d, err := e.deadLetters(ctx)
		if err == nil {
			dead = d
		}
		return false
	})
	tally(r, exp, e.recv.snapshot(), dead)
	e.checkLedger(ctx, r, exp, time.Minute)
	e.commonChecks(r)
	r.checkStall(5 * time.Second)

	var notStored, missing, wrongSubject, noReason []string
	for _, b := range bad {
		kind := kindOf(b.id)
		d, ok := probes[b.id]
		switch {
		case !pub.isAcked(b.id):
			notStored = append(notStored, kind)
		case !ok:
			missing = append(missing, kind)
		case d.Subject != "herald.dead.invalid.acme":
			wrongSubject = append(wrongSubject, kind+" on "+d.Subject)
		case d.Header.Get(broker.HeaderDeadReason) == "":
			noReason = append(noReason, kind)
		}
	}
	r.check("every malformed message stored in EVENTS", len(notStored) == 0, "%d of %d not acknowledged: %s", len(notStored), len(bad), list(notStored))
	r.check("every malformed message dead-lettered as invalid with its reason",
		len(missing)+len(wrongSubject)+len(noReason) == 0,
		"%d of %d in DEAD; not in DEAD: %s; on another subject: %s; without %s: %s",
		len(probes), len(bad), list(missing), list(wrongSubject), broker.HeaderDeadReason, list(noReason))
	var delivered []string
	for _, a := range e.recv.snapshot() {
		id := a.EventID
		if !strings.HasPrefix(id, badPrefix) {
			id, _, _ = strings.Cut(a.WebhookID, ":")
		}
		if strings.HasPrefix(id, badPrefix) {
			delivered = append(delivered, kindOf(id))
		}
	}
	r.check("no malformed message delivered", len(delivered) == 0, "%d deliveries of malformed messages: %s", len(delivered), list(delivered))
	return nil
}

// kindOf returns the kind named in a malformed message's id.
func kindOf(id string) string {
	id = strings.TrimPrefix(id, badPrefix)
	if i := strings.LastIndexByte(id, '-'); i > 0 {
		id = id[:i]
	}
	return id
}

// list names things once each, in order, or "none".
func list(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return strings.Join(out, ", ")
}
