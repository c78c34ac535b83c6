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
	"github.com/heraldhq/herald/sdk"
)

// TestMalformedEventsAreRejectedOthersFlow: malformed JSON, a missing type and a 2 MiB
// payload, published by a plain NATS client between well-formed events, are rejected with
// reasons visible in DEAD and in the logs; the events around them are all delivered.
func TestMalformedEventsAreRejectedOthersFlow(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	r := webhooktest.NewReceiver(t, "")
	f := startFleet(t, baseEnv(t, n.URL(), dbURL, r.Destination("ops")), wholeFleet)

	nc, js := jsFor(t, n)
	pub, _ := sdk.NewPublisher(nc)
	big := `{"specversion":"1.0","id":"big-1","source":"test","type":"node.launched","tenantid":"acme","data":{"blob":"` + strings.Repeat("x", 2<<20) + `"}}`
	bad := []struct {
		subject, body, reason string
	}{
		{"herald.events.acme.payment.failed", `{"specversion":"1.0","id":"broken-1",`, "json"},
		{"herald.events.acme.payment.failed", `{"specversion":"1.0","id":"notype-1","source":"test","tenantid":"acme","data":{}}`, "type: is required"},
		{"herald.events.acme.node.launched", big, "over the limit"},
	}
	good := mixedEvents(t, 30, "acme")
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
	testutil.WaitFor(t, 30*time.Second, "three dead letters", func() bool {
		dead = deadMessages(t, js)
		return len(dead) == 3
	})
	for i, b := range bad {
		m := dead[i]
		reason := m.Headers().Get("Herald-Dead-Reason")
		if !strings.Contains(reason, b.reason) {
			t.Errorf("dead letter %d: reason %q does not say %q", i, reason, b.reason)
		}
		if m.Subject() != "herald.dead.invalid.acme" {
			t.Errorf("dead letter %d on %q, want herald.dead.invalid.acme", i, m.Subject())
		}
		if string(m.Data()) != b.body {
			t.Errorf("dead letter %d does not hold the event as published (%d bytes, want %d)", i, len(m.Data()), len(b.body))
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
