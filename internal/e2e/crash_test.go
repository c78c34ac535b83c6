package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestWorkerKilledMidDelivery: a worker process killed with SIGKILL while its deliveries are
// in flight; another worker delivers them.
func TestWorkerKilledMidDelivery(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	r := webhooktest.NewReceiver(t, "")
	// Hold every request until the first worker is dead; after that, answer at once.
	var killed atomic.Bool
	held := make(chan struct{}, 1000)
	r.Respond(func(req *http.Request, _ []byte, _ int) int {
		if !killed.Load() {
			held <- struct{}{}
			<-req.Context().Done() // the dying worker's connection closes
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	e := baseEnv(t, n.URL(), dbURL, r.Destination("ops"))
	e["NOTIFICATIONS_SEND_TIMEOUT"] = "3s" // AckWait 6s: redelivery soon after the kill
	e["NOTIFICATIONS_MAX_CONCURRENT"] = "16"
	e["NOTIFICATIONS_DESTINATION_MAX_CONCURRENT"] = "16" // all of them to the one destination
	e["NOTIFICATIONS_RETRY_WORKERS"] = "16"
	startFleet(t, e, app.Role{Name: "dispatcher", Dispatcher: true, Parts: parts.All()})
	first := startChild(t, e, "channel-worker", "--channel", "webhook")

	nc, js := jsFor(t, n)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	events := mixedEvents(t, 40, "acme", "globex")
	publishAll(t, pub, events)

	// Wait until the first worker holds 16 deliveries in flight, then kill it.
	for range 16 {
		select {
		case <-held:
		case <-time.After(30 * time.Second):
			t.Fatalf("the first worker never had 16 deliveries in flight; logs:\n%s", first.logs.String())
		}
	}
	killed.Store(true)
	first.kill(t)
	startChild(t, e, "channel-worker", "--channel", "webhook")

	r.WaitForDelivered(t, len(events), time.Minute)
	db := ledger(t, dbURL)
	testutil.WaitFor(t, 30*time.Second, "ledger complete", func() bool {
		return statusCounts(t, db)["delivered"] == len(events)
	})
	// The crash cost the held deliveries an attempt at most; none of them may end dead.
	if c := ledgerStatuses(t, db); len(c) != 1 {
		t.Errorf("ledger statuses %v, want all %d delivered", c, len(events))
	}
	if dead := deadMessages(t, js); len(dead) != 0 {
		t.Errorf("%d dead letters after the worker crash, want none; the first says %q", len(dead), dead[0].Headers().Get("Herald-Dead-Reason"))
	}
	if bad := r.BadSignatures(); bad != 0 {
		t.Errorf("%d requests failed signature verification", bad)
	}
}

// TestDispatcherKilledBetweenFanOutAndAck: dispatchers killed with SIGKILL while events flow;
// no delivery reaches the receiver twice with different webhook-ids, and none is lost.
func TestDispatcherKilledBetweenFanOutAndAck(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	a := webhooktest.NewReceiver(t, "")
	b := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, n.URL(), dbURL, a.Destination("a"), b.Destination("b"))
	e["NOTIFICATIONS_DISPATCH_CONCURRENCY"] = "8"
	startFleet(t, e, app.Role{Name: "worker", Channels: []string{"webhook"}})

	nc, js := jsFor(t, n)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	events := mixedEvents(t, 600, "acme", "globex", "initech")
	publishAll(t, pub, events)

	// Kill the dispatcher three times while it is mid-stream, then let one finish.
	for i := range 3 {
		d := startChild(t, e, "dispatcher")
		before := a.Unique()
		testutil.WaitFor(t, 30*time.Second, "the dispatcher to make progress", func() bool {
			return a.Unique() >= before+50 || a.Unique() == len(events)
		})
		d.kill(t)
		t.Logf("killed dispatcher %d with %d of %d delivered to a", i+1, a.Unique(), len(events))
	}
	startChild(t, e, "dispatcher")
	a.WaitForUnique(t, len(events), time.Minute)
	b.WaitForUnique(t, len(events), time.Minute)

	for name, r := range map[string]*webhooktest.Receiver{"a": a, "b": b} {
		ids := map[string]map[string]bool{} // event id -> webhook-ids seen
		for _, req := range r.Requests() {
			var ev sdk.Event
			if err := json.Unmarshal(req.Body, &ev); err != nil {
				t.Fatal(err)
			}
			if ids[ev.ID] == nil {
				ids[ev.ID] = map[string]bool{}
			}
			ids[ev.ID][req.ID] = true
		}
		if len(ids) != len(events) {
			t.Errorf("%s got %d events, want %d", name, len(ids), len(events))
		}
		if bad := r.BadSignatures(); bad != 0 {
			t.Errorf("%s: %d requests failed signature verification", name, bad)
		}
		for ev, whIDs := range ids {
			if len(whIDs) != 1 {
				t.Errorf("%s got event %s under %d webhook-ids", name, ev, len(whIDs))
			}
			for id := range whIDs {
				if !strings.HasPrefix(id, ev+":") {
					t.Errorf("webhook-id %s is not derived from event %s", id, ev)
				}
			}
		}
	}
	// Results the killed dispatchers' recorders held come back after the recorder's AckWait.
	db := ledger(t, dbURL)
	testutil.WaitFor(t, time.Minute, "ledger complete", func() bool {
		return statusCounts(t, db)["delivered"] == 2*len(events)
	})
	if c := ledgerStatuses(t, db); len(c) != 1 {
		t.Errorf("ledger statuses %v, want all %d delivered", c, 2*len(events))
	}
	if dead := deadMessages(t, js); len(dead) != 0 {
		t.Errorf("%d dead letters after the dispatcher crashes, want none; the first says %q", len(dead), dead[0].Headers().Get("Herald-Dead-Reason"))
	}
}
