package ops_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestReplicas runs two dispatcher replicas on one NATS and one ledger: a replay started on
// one is followed and cancelled from the other; a circuit state a worker publishes shows in
// the other's status; dead letters are discarded; test sends report each outcome.
func TestReplicas(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	slack := newFakeSlack(t)
	hook := newReceiver(t)
	a := startFleet(t, fleetEnv(t, n.URL(), dbURL, slack.URL, hook.URL)).Ops()
	b := startFleet(t, fleetEnv(t, n.URL(), dbURL, slack.URL, hook.URL)).Ops()
	ctx := t.Context()
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}

	// Enough events that a replay at 500 a second runs for seconds.
	var evs []*sdk.Event
	for range 3000 {
		ev, err := sdk.NewNodeLaunched("acme", sdk.NodeLaunched{NodeID: "n", Provider: "aws", Region: "r", GPUType: "H100", GPUCount: 1})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	publish(t, js, evs...)

	t.Run("history pages while deliveries arrive", func(t *testing.T) {
		// Walk the whole history twice while the 3,000 events are being delivered and
		// recorded: neither walk repeats a delivery (all fails on a repeat), and the second
		// finds every delivery the first did, whatever arrived in between.
		walk := func() map[string]bool {
			out := map[string]bool{}
			for _, d := range all(t, func(pg control.Page) ([]store.Delivery, string, error) {
				return b.Deliveries(ctx, control.DeliveryQuery{Tenant: "acme", Page: pg})
			}, 50) {
				out[d.DeliveryID] = true
			}
			return out
		}
		testutil.WaitFor(t, waitLong, "deliveries recorded", func() bool {
			items, _, err := a.Deliveries(ctx, control.DeliveryQuery{Page: control.Page{Limit: 200}})
			return err == nil && len(items) == 200
		})
		first := walk()
		second := walk()
		for id := range first {
			if !second[id] {
				t.Errorf("delivery %s, listed by the first walk, was skipped by the second", id)
			}
		}
		t.Logf("first walk %d deliveries, second %d", len(first), len(second))
	})

	t.Run("replay followed and cancelled from another replica", func(t *testing.T) {
		job, err := a.Replays().Start(ctx, control.ReplayRequest{Since: time.Now().Add(-time.Hour), Tenant: "acme", EventTypes: []string{"node.*"}, DryRun: true})
		if err != nil {
			t.Fatalf("Start: %v", err)
		}
		testutil.WaitFor(t, waitLong, "progress seen from the other replica", func() bool {
			got, err := b.Replays().Get(ctx, job.ID)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			return got.State == control.ReplayRunning && got.Matched > 0
		})
		got, err := b.Replays().Cancel(ctx, job.ID)
		if err != nil || got.State != control.ReplayCancelled {
			t.Fatalf("Cancel = %+v, %v; want cancelled", got, err)
		}
		// The runner on the first replica stops at its next save and leaves the job as the
		// cancel wrote it.
		final, err := a.Replays().Get(ctx, job.ID)
		if err != nil || final.State != control.ReplayCancelled || final.Matched >= 3000 {
			t.Errorf("after cancel: %+v, %v; want cancelled before the end", final, err)
		}
	})

	t.Run("invalid requests", func(t *testing.T) {
		for _, req := range []control.ReplayRequest{
			{},
			{Since: time.Now(), Until: time.Now().Add(-time.Hour)},
			{Since: time.Now().Add(-time.Hour), EventTypes: []string{"payment.["}},
			{Since: time.Now().Add(-time.Hour), Channels: []string{"pigeon"}},
			{Since: time.Now().Add(-time.Hour), Destinations: "elsewhere"},
		} {
			var fe *control.FieldError
			if _, err := a.Replays().Start(ctx, req); !errors.As(err, &fe) {
				t.Errorf("Start(%+v) = %v, want a *control.FieldError", req, err)
			}
		}
	})

	t.Run("circuit state in the status", func(t *testing.T) {
		kv, err := js.KeyValue(ctx, "herald_circuits")
		if err != nil {
			t.Fatal(err)
		}
		until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		body, _ := json.Marshal(delivery.DestinationState{Channel: "slack", Destination: "slack", Circuit: delivery.StateOpen, PausedUntil: until, Worker: "w9"})
		if _, err := kv.Put(ctx, delivery.StateKey("slack", "slack", "w9"), body); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, waitLong, "the open circuit in the other replica's status", func() bool {
			st, err := b.Status(ctx)
			if err != nil {
				t.Fatalf("Status: %v", err)
			}
			for _, c := range st.Channels {
				for _, d := range c.Destinations {
					if c.Channel == "slack" && d.Destination == "slack" && d.Circuit == delivery.StateOpen && d.PausedUntil != nil && d.PausedUntil.Equal(until) {
						return true
					}
				}
			}
			return false
		})
		if err := kv.Delete(ctx, delivery.StateKey("slack", "slack", "w9")); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("test sends", func(t *testing.T) {
		out, err := a.TestChannel(ctx, "slack")
		if err != nil || len(out) != 1 || out[0].Status != store.StatusDelivered || out[0].HTTPStatus != http.StatusOK || out[0].Destination != "slack" {
			t.Errorf("TestChannel(slack) = %+v, %v; want one delivered", out, err)
		}
		slack.down.Store(true)
		out, err = a.TestChannel(ctx, "slack")
		slack.down.Store(false)
		if err != nil || len(out) != 1 || out[0].Status != store.StatusRetrying || out[0].HTTPStatus != http.StatusInternalServerError || out[0].Error == "" {
			t.Errorf("TestChannel(slack) while down = %+v, %v; want one retrying with its error", out, err)
		}
		var fe *control.FieldError
		if _, err := a.TestChannel(ctx, "pigeon"); !errors.As(err, &fe) {
			t.Errorf("TestChannel(pigeon) = %v, want a *control.FieldError", err)
		}
	})

	t.Run("discard", func(t *testing.T) {
		slack.down.Store(true)
		defer slack.down.Store(false)
		ev := paymentFailed(t, "globex")
		publish(t, js, ev)
		id := ev.ID + ":slack"
		testutil.WaitFor(t, waitLong, "a Slack dead letter", func() bool {
			items, _, err := a.DeadLetters().List(ctx, control.DeliveryQuery{Tenant: "globex", Page: control.Page{Limit: 10}})
			return err == nil && len(items) == 1 && items[0].DeliveryID == id
		})
		n, err := b.DeadLetters().Discard(ctx, control.DeadSelection{IDs: []string{id, "unknown:slack"}})
		if err != nil || n != 1 {
			t.Fatalf("Discard = %d, %v; want 1", n, err)
		}
		items, _, err := a.DeadLetters().List(ctx, control.DeliveryQuery{Tenant: "globex", Page: control.Page{Limit: 10}})
		if err != nil || len(items) != 0 {
			t.Errorf("dead list after discard: %v, %v; want empty", items, err)
		}
		d, err := a.Delivery(ctx, id)
		if err != nil || d.Status != store.StatusDead {
			t.Errorf("discarded delivery %+v, %v: want it still dead in the history", d.Delivery, err)
		}
		testutil.WaitFor(t, waitLong, "DEAD emptied", func() bool { return testutil.StreamMsgs(t, js, "DEAD") == 0 })
		if n, err := b.DeadLetters().Redrive(ctx, control.DeadSelection{IDs: []string{id}}); err != nil || n != 0 {
			t.Errorf("Redrive of a discarded letter = %d, %v; want 0", n, err)
		}
	})
}
