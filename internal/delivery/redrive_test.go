package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
)

// TestRedrivenDeliveryHasAFreshBudget sends a delivery that died after 4 attempts again, as
// a redrive does: it gets the whole budget of attempts once more, numbered after its first
// life's so that the ledger records them, and dies again with the total in its dead letter.
func TestRedrivenDeliveryHasAFreshBudget(t *testing.T) {
	t.Parallel()
	e := setup(t, delivery.Config{
		Attempts: 3,
		Backoff:  delivery.Backoff{Delays: []time.Duration{10 * time.Millisecond}},
	}, func(context.Context, channel.Notification) channel.Outcome {
		return channel.RetryLater(503, 0, "service unavailable")
	})
	m, id := newDelivery(t, destID)
	m.Header.Set(jetstream.MsgIDHeader, id+":redrive:4")
	m.Header.Set(delivery.HeaderAttemptBase, "4")
	// A count left over from the first life must not shorten the second.
	if err := e.attempts.Record(t.Context(), id, 2); err != nil {
		t.Fatal(err)
	}
	e.publishMsg(t, m)

	rs := e.waitResults(t, id, 3)
	e.waitSettled(t)
	var attempts []int
	var statuses []store.Status
	for _, r := range rs {
		attempts, statuses = append(attempts, r.Attempt), append(statuses, r.Status)
	}
	if !slices.Equal(attempts, []int{5, 6, 7}) {
		t.Errorf("attempts %v, want [5 6 7]", attempts)
	}
	if want := []store.Status{store.StatusRetrying, store.StatusRetrying, store.StatusDead}; !slices.Equal(statuses, want) {
		t.Errorf("statuses %v, want %v", statuses, want)
	}
	var sent []int
	for _, s := range e.ch.Sends() {
		sent = append(sent, s.attempt)
	}
	if !slices.Equal(sent, []int{5, 6, 7}) {
		t.Errorf("the channel saw attempts %v, want [5 6 7]", sent)
	}
	dead := e.streamMsgs(t, broker.StreamDead)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want 1", len(dead))
	}
	if got := dead[0].Header.Get(broker.HeaderAttempts); got != "7" {
		t.Errorf("dead letter %s = %q, want 7", broker.HeaderAttempts, got)
	}
	if got, want := dead[0].Header.Get(broker.HeaderDeadReason), "gave up after 3 attempts: service unavailable"; got != want {
		t.Errorf("dead reason %q, want %q", got, want)
	}
}

// TestStateBoardPublishesCircuits opens a destination's circuit and checks that the worker
// publishes it to the circuits bucket, and that the state goes when the worker stops.
func TestStateBoardPublishesCircuits(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4, 5*time.Second)
	kv, err := e.js.CreateOrUpdateKeyValue(t.Context(), delivery.StatesBucketConfig("herald", 1))
	if err != nil {
		t.Fatal(err)
	}
	board := delivery.NewStateBoard(kv, chName, "w1", obs.Discard())
	e.ch = &fakeChannel{outcome: func(context.Context, channel.Notification) channel.Outcome {
		return channel.RetryLater(503, 0, "service unavailable")
	}}
	w := delivery.New(delivery.Config{
		Attempts: 4,
		Backoff:  delivery.Backoff{Delays: []time.Duration{10 * time.Millisecond}},
		Breaker:  delivery.BreakerConfig{MinFailures: 2, Cooldown: time.Minute},
	}, delivery.Deps{
		Consumer: e.cons, Publisher: e.js, Channel: e.ch,
		Destinations: delivery.StaticDestinations{destID: webhook.Destination(destID, "https://example.com/hook", "")},
		Attempts:     e.attempts, Metrics: e.metrics, Logger: obs.Discard(), States: board,
	})
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		e.publish(t, destID)
	}
	key := delivery.StateKey(chName, destID, "w1")
	var st delivery.DestinationState
	testutil.WaitFor(t, waitLong, "the open circuit in the bucket", func() bool {
		entry, err := kv.Get(t.Context(), key)
		if err != nil {
			return false
		}
		if err := json.Unmarshal(entry.Value(), &st); err != nil {
			t.Fatal(err)
		}
		return st.Circuit == delivery.StateOpen
	})
	if st.Channel != chName || st.Destination != destID || st.Worker != "w1" {
		t.Errorf("state %+v does not name its channel, destination and worker", st)
	}
	if c, d, ok := delivery.ParseStateKey(key); !ok || c != chName || d != destID {
		t.Errorf("ParseStateKey(%q) = %q, %q, %v", key, c, d, ok)
	}
	w.Stop()
	board.Stop()
	if _, err := kv.Get(t.Context(), key); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("state after Stop: %v, want it deleted", err)
	}
}
