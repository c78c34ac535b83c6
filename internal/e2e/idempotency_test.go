package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// republish publishes ev again until JetStream stores it as a new message, that is until the
// stream's duplicate window has let its id go, and returns the stream sequence.
func republish(t *testing.T, pub *sdk.Publisher, ev *sdk.Event) uint64 {
	t.Helper()
	var seq uint64
	testutil.WaitFor(t, 30*time.Second, "the duplicate window to pass", func() bool {
		ack, err := pub.Publish(context.Background(), ev)
		if err != nil {
			t.Fatalf("republish: %v", err)
		}
		seq = ack.Sequence
		return !ack.Duplicate
	})
	return seq
}

// dispatcherPast waits until the dispatcher has acked every event up to seq.
func dispatcherPast(t *testing.T, js jetstream.JetStream, seq uint64) {
	t.Helper()
	testutil.WaitFor(t, 30*time.Second, "the dispatcher to handle the republished event", func() bool {
		c, err := js.Consumer(context.Background(), "EVENTS", "dispatcher")
		if err != nil {
			return false
		}
		info, err := c.Info(context.Background())
		return err == nil && info.AckFloor.Stream >= seq
	})
}

// TestSameEventAfterDuplicateWindowAndRestart: an event published again after the stream's
// duplicate window, and again after the dispatcher and NATS restarted, is not delivered a
// second time; once the (shortened) idempotency window has passed, it is.
func TestSameEventAfterDuplicateWindowAndRestart(t *testing.T) {
	t.Parallel()
	natsDir := t.TempDir()
	n := testutil.StartNATSIn(t, natsDir)
	dbURL := testutil.NewDatabase(t)
	r := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, n.URL(), dbURL, r.Destination("ops"))
	e["NOTIFICATIONS_DUPLICATE_WINDOW"] = "500ms"
	e["NOTIFICATIONS_IDEMPOTENCY_WINDOW"] = "15s"
	f := startFleet(t, e, wholeFleet)

	nc, js := jsFor(t, n)
	pub := publisher(t, nc)
	ev, err := sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 10, Currency: "USD", PaymentID: "pay_1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	r.WaitForDelivered(t, 1, 30*time.Second)
	start := time.Now()

	// After the duplicate window: JetStream stores it again, the dispatcher drops it.
	dispatcherPast(t, js, republish(t, pub, ev))

	// After a restart of every process: the fleet, and the NATS server on the same store.
	f.Stop()
	nc.Close()
	n.Shutdown()
	n = testutil.StartNATSIn(t, natsDir)
	e["NOTIFICATIONS_NATS_URL"] = n.URL()
	startFleet(t, e, wholeFleet)
	nc, js = jsFor(t, n)
	pub = publisher(t, nc)
	dispatcherPast(t, js, republish(t, pub, ev))

	// A fresh event published after these is delivered, so the pipeline is alive and the
	// duplicates above were dropped, not stuck.
	fresh, err := sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 11, Currency: "USD", PaymentID: "pay_2"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(context.Background(), fresh); err != nil {
		t.Fatal(err)
	}
	r.WaitForUnique(t, 2, 30*time.Second)
	if got := len(r.ByID()[ev.ID+":ops"]); got != 1 {
		t.Fatalf("event delivered %d times within the idempotency window, want once", got)
	}
	if time.Since(start) > 15*time.Second {
		t.Fatalf("the checks took longer than the idempotency window; the test proves nothing")
	}

	// Past the idempotency window the id is forgotten: the event is new again.
	testutil.WaitFor(t, 30*time.Second, "the idempotency window to pass", func() bool {
		seq := republish(t, pub, ev)
		dispatcherPast(t, js, seq)
		return len(r.ByID()[ev.ID+":ops"]) == 2
	})
}
