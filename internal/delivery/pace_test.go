package delivery_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
)

func TestPacerSpacesSendsAfterABurst(t *testing.T) {
	t.Parallel()
	var p delivery.Pacer
	pace := channel.Pace{Key: "hook", Every: 400 * time.Millisecond, Burst: 5}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var got []time.Duration
	for range 8 {
		got = append(got, p.Reserve(pace, t0).Sub(t0))
	}
	want := []time.Duration{0, 0, 0, 0, 0, 400 * time.Millisecond, 800 * time.Millisecond, 1200 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("send %d may go at +%s, want +%s (all: %v)", i+1, got[i], want[i], got)
		}
	}
	// After a quiet spell the whole burst is back.
	later := t0.Add(time.Minute)
	for i := range 5 {
		if at := p.Reserve(pace, later); !at.Equal(later) {
			t.Fatalf("after a quiet minute, send %d waits until +%s", i+1, at.Sub(later))
		}
	}
	// Another key is not held up by this one.
	if at := p.Reserve(channel.Pace{Key: "other", Every: time.Hour, Burst: 1}, t0); !at.Equal(t0) {
		t.Fatalf("a fresh key waits until +%s", at.Sub(t0))
	}
}

func TestPacerPauseHoldsTheBucketWithoutABurstAfter(t *testing.T) {
	t.Parallel()
	var p delivery.Pacer
	pace := channel.Pace{Key: "hook", Every: time.Second, Burst: 3}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	until := t0.Add(10 * time.Second)
	p.Pause(pace, until, t0)
	if !p.Paused(pace, t0.Add(9*time.Second)) || p.Paused(pace, until) {
		t.Fatal("Paused does not report the pause up to its end")
	}
	first, second := p.Reserve(pace, t0), p.Reserve(pace, t0)
	if !first.Equal(until) || !second.Equal(until.Add(time.Second)) {
		t.Fatalf("after a pause sends go at +%s, +%s; want +10s, +11s", first.Sub(t0), second.Sub(t0))
	}
	// An unpaced destination still honours its provider's pause.
	dest := channel.Pace{Key: "destination:x"}
	if at := p.Reserve(dest, t0); !at.Equal(t0) {
		t.Fatalf("unpaced destination waits until +%s", at.Sub(t0))
	}
	p.Pause(dest, until, t0)
	if at := p.Reserve(dest, t0); !at.Equal(until) {
		t.Fatalf("paused unpaced destination may go at +%s, want +10s", at.Sub(t0))
	}
}

// pacedChannel delivers everything, pacing the destination "slow" at one send an hour.
type pacedChannel struct {
	mu    sync.Mutex
	sends map[string]int
}

func (c *pacedChannel) Name() string                       { return chName }
func (c *pacedChannel) Validate(channel.Destination) error { return nil }

func (c *pacedChannel) Pace(d channel.Destination) channel.Pace {
	if d.ID == "slow" {
		return channel.Pace{Key: "slow", Every: time.Hour, Burst: 1}
	}
	return channel.Pace{}
}

func (c *pacedChannel) Send(_ context.Context, n channel.Notification) channel.Outcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sends[n.Destination.ID]++
	return channel.Sent(200)
}

func (c *pacedChannel) count(dest string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sends[dest]
}

// TestPacedDestinationDoesNotHoldOthers: a destination whose pace is spent keeps its
// deliveries waiting, unsent and unacknowledged, while another destination's deliveries
// all go through the same two send slots.
func TestPacedDestinationDoesNotHoldOthers(t *testing.T) {
	t.Parallel()
	cfg := delivery.Config{MaxConcurrent: 2, SendTimeout: 5 * time.Second, Attempts: 4}
	e := newEnv(t, cfg.Attempts, cfg.SendTimeout)
	ch := &pacedChannel{sends: map[string]int{}}
	w := delivery.New(cfg, delivery.Deps{
		Consumer:  e.cons,
		Publisher: e.js,
		Channel:   ch,
		Destinations: delivery.StaticDestinations{
			"slow": {ID: "slow", Channel: chName},
			destID: {ID: destID, Channel: chName},
		},
		Attempts: e.attempts,
		Metrics:  e.metrics,
		Logger:   obs.Discard(),
	})
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			w.Stop()
		}
	})
	for range 3 {
		e.publish(t, "slow")
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
	testutil.WaitFor(t, waitLong, "the slow destination's first delivery", func() bool { return ch.count("slow") == 1 })
	if n := ch.count(destID); n != 20 {
		t.Fatalf("%d sends to the fast destination, want 20", n)
	}
	// The other two wait their turn, held by this worker: unacknowledged, not lost.
	testutil.WaitFor(t, waitLong, "two deliveries waiting for their turn", func() bool {
		ci, err := e.cons.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return ci.NumAckPending == 2 && ci.NumPending == 0
	})
	if n := ch.count("slow"); n != 1 {
		t.Fatalf("%d sends to the slow destination, want 1: its pace was not kept", n)
	}
	// Stopping does not wait an hour for them: they come back after AckWait.
	done := make(chan struct{})
	go func() { w.Stop(); close(done) }()
	select {
	case <-done:
		stopped = true
	case <-time.After(waitLong):
		t.Fatal("Stop waited for deliveries waiting for their pace")
	}
}

// TestRateLimitSendsAgainInPlace: a provider's 429 with a wait holds the destination and
// sends the delivery again once the wait is over, as the same attempt.
func TestRateLimitSendsAgainInPlace(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	e := setup(t, delivery.Config{}, func(context.Context, channel.Notification) channel.Outcome {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			o := channel.RetryLater(429, 300*time.Millisecond, "HTTP 429: slow down")
			o.Pause = 300 * time.Millisecond
			return o
		}
		return channel.Sent(200)
	})
	id, _ := e.publish(t, destID)
	e.waitResults(t, id, 1)
	e.waitSettled(t)
	if rs := e.results(t, id); len(rs) != 1 || rs[0].Status != store.StatusDelivered || rs[0].Attempt != 1 {
		t.Fatalf("results = %+v, want one: delivered on attempt 1", rs)
	}
	sends := e.ch.Sends()
	if len(sends) != 2 {
		t.Fatalf("%d sends, want 2", len(sends))
	}
	if sends[1].attempt != 1 {
		t.Errorf("the send after the rate limit is attempt %d, want 1 (no attempt used up)", sends[1].attempt)
	}
	if gap := sends[1].at.Sub(sends[0].at); gap < 300*time.Millisecond {
		t.Errorf("sent again %s after the 429, want at least 300ms", gap)
	}
	if v := counter(t, e.reg, "notifications_rate_limited_total", map[string]string{"channel": chName}); v != 1 {
		t.Errorf("notifications_rate_limited_total = %v, want 1", v)
	}
}

// TestProviderPauseDelaysTheNextSend: a delivered send whose response says the bucket is
// empty holds the next delivery to that destination until it refills.
func TestProviderPauseDelaysTheNextSend(t *testing.T) {
	t.Parallel()
	e := setup(t, delivery.Config{}, func(context.Context, channel.Notification) channel.Outcome {
		o := channel.Sent(200)
		o.Pause = 500 * time.Millisecond
		return o
	})
	first, _ := e.publish(t, destID)
	e.waitResults(t, first, 1)
	second, _ := e.publish(t, destID)
	e.waitResults(t, second, 1)
	sends := e.ch.Sends()
	if len(sends) != 2 {
		t.Fatalf("%d sends, want 2", len(sends))
	}
	if gap := sends[1].at.Sub(sends[0].at); gap < 500*time.Millisecond {
		t.Errorf("second send came %s after the first, want at least the 500ms pause", gap)
	}
}
