package delivery_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
)

// TestOpenCircuitHoldsWithoutSpendingAttempts: the first bug. A destination fails
// enough to open its circuit; deliveries that arrive while it is open are held, not sent and
// not charged an attempt, so with a single attempt configured every one of them is still
// delivered once the probe finds the destination back. Only the sends that really failed end
// in DEAD.
func TestOpenCircuitHoldsWithoutSpendingAttempts(t *testing.T) {
	t.Parallel()
	var sends atomic.Int32
	e := setup(t, delivery.Config{
		Attempts: 1,
		Breaker:  delivery.BreakerConfig{MinFailures: 3, FailureRate: 0.5, Cooldown: 300 * time.Millisecond},
	}, func(context.Context, channel.Notification) channel.Outcome {
		if sends.Add(1) <= 3 {
			return channel.RetryLater(http.StatusServiceUnavailable, 0, "service unavailable")
		}
		return channel.Sent(http.StatusOK)
	})
	var failing []string
	for range 3 {
		id, _ := e.publish(t, destID)
		failing = append(failing, id)
	}
	for _, id := range failing {
		e.waitResults(t, id, 1)
	}
	testutil.WaitFor(t, waitLong, "the circuit to open", func() bool {
		return counter(t, e.reg, "notifications_circuit_state", map[string]string{"destination": destID}) == float64(delivery.CircuitOpen)
	})

	var held []string
	for range 10 {
		id, _ := e.publish(t, destID)
		held = append(held, id)
	}
	for _, id := range held {
		rs := e.waitResults(t, id, 1)
		if len(rs) != 1 || rs[0].Status != store.StatusDelivered || rs[0].Attempt != 1 {
			t.Errorf("delivery %s: results %+v, want one, delivered on attempt 1", id, rs)
		}
	}
	e.waitSettled(t)
	if n := counter(t, e.reg, "notifications_held_total", map[string]string{"reason": "circuit_open"}); n == 0 {
		t.Error("no delivery was held by the open circuit: the test proves nothing")
	}
	if got := len(e.streamMsgs(t, broker.StreamDead)); got != 3 {
		t.Errorf("%d dead letters, want the 3 sends that failed", got)
	}
	if n := counter(t, e.reg, "notifications_circuit_state", map[string]string{"destination": destID}); n != 0 {
		t.Errorf("circuit state %v after the probe succeeded, want no series (closed)", n)
	}
	if got := int(sends.Load()); got != 3+len(held) {
		t.Errorf("%d sends, want %d: a held delivery is never sent while held", got, 3+len(held))
	}
}

// TestRateLimitSpendsNoAttempt: a provider that keeps answering 429 past the in-place resends
// holds the delivery; with one attempt configured it is still delivered when the limit lifts.
func TestRateLimitSpendsNoAttempt(t *testing.T) {
	t.Parallel()
	var sends atomic.Int32
	e := setup(t, delivery.Config{Attempts: 1}, func(context.Context, channel.Notification) channel.Outcome {
		if sends.Add(1) <= 8 {
			return channel.RetryLater(http.StatusTooManyRequests, 10*time.Millisecond, "rate limited")
		}
		return channel.Sent(http.StatusOK)
	})
	id, _ := e.publish(t, destID)
	rs := e.waitResults(t, id, 1)
	e.waitSettled(t)
	if len(rs) != 1 || rs[0].Status != store.StatusDelivered || rs[0].Attempt != 1 {
		t.Errorf("results %+v, want one, delivered on attempt 1", rs)
	}
	if n := counter(t, e.reg, "notifications_held_total", map[string]string{"reason": "rate_limited"}); n == 0 {
		t.Error("the delivery was never held: the in-place resends covered every 429 and the test proves nothing")
	}
	if got := len(e.streamMsgs(t, broker.StreamDead)); got != 0 {
		t.Errorf("%d dead letters, want none", got)
	}
}

// TestUnknownDestinationIsHeld: a delivery to a destination this worker does not know (a
// rolling deploy in progress) waits for a worker that does, instead of dying.
func TestUnknownDestinationIsHeld(t *testing.T) {
	t.Parallel()
	e := setup(t, delivery.Config{
		Attempts: 1,
		Backoff:  delivery.Backoff{Delays: []time.Duration{10 * time.Millisecond}},
	}, perAttempt(channel.Sent(http.StatusOK)))
	id, _ := e.publish(t, "not-configured-yet")
	testutil.WaitFor(t, waitLong, "the delivery to be held three times", func() bool {
		return counter(t, e.reg, "notifications_held_total", map[string]string{"reason": "unknown_destination"}) >= 3
	})
	if rs := e.results(t, id); len(rs) != 0 {
		t.Errorf("results %+v, want none: nothing was attempted", rs)
	}
	if got := len(e.streamMsgs(t, broker.StreamDead)); got != 0 {
		t.Errorf("%d dead letters, want none", got)
	}
	if got := testutil.StreamMsgs(t, e.js, broker.StreamDeliveries); got != 1 {
		t.Errorf("DELIVERIES holds %d messages, want the held one", got)
	}
}

// TestEventTypeLabelIsBounded: producers choose event types; a metric series per type would
// grow without bound, so types not known by name share the label "other".
func TestEventTypeLabelIsBounded(t *testing.T) {
	t.Parallel()
	e := setup(t, delivery.Config{}, perAttempt(channel.Sent(http.StatusOK)))
	for _, typ := range []string{"payment.failed", "custom.one", "custom.two"} {
		m, id := newDelivery(t, destID)
		m.Header.Set(broker.HeaderEventType, typ)
		e.publishMsg(t, m)
		e.waitResults(t, id, 1)
	}
	e.waitSettled(t)
	for label, want := range map[string]float64{"payment.failed": 1, "other": 2, "custom.one": 0} {
		if got := counter(t, e.reg, "notifications_delivered_total", map[string]string{"event_type": label}); got != want {
			t.Errorf("notifications_delivered_total{event_type=%q} = %v, want %v", label, got, want)
		}
	}
}

// stuckChannel never answers sends to the destination "stuck" until released; it answers
// the others at once.
type stuckChannel struct {
	release chan struct{}
	mu      sync.Mutex
	stuck   int // sends to "stuck" so far
	other   int
}

func (c *stuckChannel) Name() string                       { return chName }
func (c *stuckChannel) Validate(channel.Destination) error { return nil }
func (c *stuckChannel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	c.mu.Lock()
	if n.Destination.ID != "stuck" {
		c.other++
		c.mu.Unlock()
		return channel.Sent(http.StatusOK)
	}
	c.stuck++
	c.mu.Unlock()
	select {
	case <-c.release:
		return channel.Sent(http.StatusOK)
	case <-ctx.Done():
		return channel.RetryLater(0, 0, "timeout")
	}
}

func (c *stuckChannel) counts() (stuck, other int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stuck, c.other
}

// TestUnansweringDestinationHoldsOnlyItsShare: before its circuit can open, a destination
// that stops answering holds at most DestinationConcurrency of the worker's send slots; the
// other destinations of the channel are delivered meanwhile.
func TestUnansweringDestinationHoldsOnlyItsShare(t *testing.T) {
	t.Parallel()
	cfg := delivery.Config{MaxConcurrent: 4, DestinationConcurrency: 2, SendTimeout: 5 * time.Second, Attempts: 4}
	e := newEnv(t, cfg.Attempts, cfg.SendTimeout)
	ch := &stuckChannel{release: make(chan struct{})}
	w := delivery.New(cfg, delivery.Deps{
		Consumer:  e.cons,
		Publisher: e.js,
		Channel:   ch,
		Destinations: delivery.StaticDestinations{
			"stuck": {ID: "stuck", Channel: chName},
			destID:  {ID: destID, Channel: chName},
		},
		Attempts: e.attempts,
		Metrics:  e.metrics,
		Logger:   obs.Discard(),
	})
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	for range 6 {
		e.publish(t, "stuck")
	}
	var fast []string
	for range 20 {
		id, _ := e.publish(t, destID)
		fast = append(fast, id)
	}
	for _, id := range fast {
		if rs := e.waitResults(t, id, 1); rs[0].Status != store.StatusDelivered {
			t.Fatalf("delivery %s: %s, want delivered", id, rs[0].Status)
		}
	}
	if stuck, other := ch.counts(); stuck != 2 || other != 20 {
		t.Errorf("%d sends to the unanswering destination in flight and %d others, want 2 and 20", stuck, other)
	}
	close(ch.release)
	e.waitSettled(t)
	if stuck, _ := ch.counts(); stuck != 6 {
		t.Errorf("%d sends to the destination once it answered, want all 6", stuck)
	}
}
