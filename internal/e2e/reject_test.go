package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
)

// TestMalformedEventsAreRejectedOthersFlow: malformed JSON, a missing type, a 2 MiB payload,
// JSON nested 10,000 levels deep, invalid UTF-8 and an event on another tenant's subject,
// published by a plain NATS client between well-formed events, are rejected with reasons
// visible in DEAD and in the logs; the events around them are all delivered. (A seed type's
// data in an odd spelling is not malformed: see the dispatcher's tests.)
func TestMalformedEventsAreRejectedOthersFlow(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	r := webhooktest.NewReceiver(t, "")
	f := startFleet(t, baseEnv(t, n.URL(), dbURL, r.Destination("ops")), wholeFleet)

	nc, js := jsFor(t, n)
	pub := publisher(t, nc)
	big := `{"specversion":"1.0","id":"big-1","source":"test","type":"node.launched","tenantid":"acme","data":{"blob":"` + strings.Repeat("x", 2<<20) + `"}}`
	bad := []struct {
		subject, body, reason string
	}{
		{"herald.events.acme.payment.failed", `{"specversion":"1.0","id":"broken-1",`, "json"},
		{"herald.events.acme.payment.failed", `{"specversion":"1.0","id":"notype-1","source":"test","tenantid":"acme","data":{}}`, "type: is required"},
		{"herald.events.acme.node.launched", big, "over the limit"},
		{"herald.events.acme.custom.deep", `{"specversion":"1.0","id":"deep-1","source":"test","type":"custom.deep","tenantid":"acme","data":` + strings.Repeat("[", 10000) + strings.Repeat("]", 10000) + `}`, "nests deeper than"},
		{"herald.events.acme.custom.latin1", "{\"specversion\":\"1.0\",\"id\":\"latin1-1\",\"source\":\"test\",\"type\":\"custom.latin1\",\"tenantid\":\"acme\",\"data\":{\"name\":\"caf\xe9\"}}", "not valid UTF-8"},
		{"herald.events.globex.payment.failed", `{"specversion":"1.0","id":"spoof-1","source":"test","type":"payment.failed","tenantid":"acme","data":{"reason":"x","amount":1}}`, "published on"},
	}
	good := mixedEvents(t, 10*len(bad), "acme")
	for i, b := range bad {
		publishAll(t, pub, good[i*10:(i+1)*10])
		m := nats.NewMsg(b.subject)
		m.Data = []byte(b.body)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatalf("publish malformed %d: %v", i, err)
		}
		cancel()
	}
	r.WaitForUnique(t, len(good), time.Minute)

	var dead []jetstream.Msg
	testutil.WaitFor(t, 30*time.Second, "a dead letter per malformed event", func() bool {
		dead = deadMessages(t, js)
		return len(dead) == len(bad)
	})
	// The dispatcher works concurrently: match dead letters to events by their bodies.
	byBody := map[string]jetstream.Msg{}
	for _, m := range dead {
		byBody[string(m.Data())] = m
	}
	for i, b := range bad {
		m, ok := byBody[b.body]
		if !ok {
			t.Errorf("malformed event %d is not in DEAD as published", i)
			continue
		}
		reason := m.Headers().Get("Herald-Dead-Reason")
		if !strings.Contains(reason, b.reason) {
			t.Errorf("dead letter %d: reason %q does not say %q", i, reason, b.reason)
		}
		if tenant := strings.Split(b.subject, ".")[2]; m.Subject() != "herald.dead.invalid."+tenant {
			t.Errorf("dead letter %d on %q, want herald.dead.invalid.%s", i, m.Subject(), tenant)
		}
		if m.Headers().Get("Herald-Original-Subject") != b.subject {
			t.Errorf("dead letter %d lost its original subject", i)
		}
		if lines := logLines(f.logs.String(), "invalid event rejected", b.reason); len(lines) != 1 {
			t.Errorf("want one log line for rejected event %d with %q, got %d", i, b.reason, len(lines))
		}
	}
	if bad := r.BadSignatures(); bad != 0 {
		t.Errorf("%d bad signatures", bad)
	}
}
