package ops

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/store"
)

// Status answers the admin status; see control.StatusReader. One poll costs one consumer
// info request per channel, one ledger query (store.HealthSQL; shared by the polls within
// HealthMaxAge) and the listing of the disabled tenant destinations; the circuit states
// are read from memory, kept current by a watch of the circuits bucket.
func (s *Service) Status(ctx context.Context) (control.Status, error) {
	now := time.Now().UTC()
	deadSince, err := s.deadSince(ctx, now)
	if err != nil {
		return control.Status{}, err
	}
	health, err := s.ledgerHealth(ctx, now, deadSince)
	if err != nil {
		return control.Status{}, fmt.Errorf("status: %w", err)
	}
	channels := map[string]*control.ChannelStatus{}
	type rates struct{ f5, d5, f60, d60 int64 }
	totals := map[string]*rates{}
	get := func(name string) *control.ChannelStatus {
		c, ok := channels[name]
		if !ok {
			c = &control.ChannelStatus{Channel: name, Destinations: []control.DestinationStatus{}}
			channels[name] = c
			totals[name] = &rates{}
		}
		return c
	}
	for _, name := range s.cfg.Channels {
		get(name)
	}
	dests := map[[2]string]*control.DestinationStatus{}
	dest := func(ch, id string) *control.DestinationStatus {
		k := [2]string{ch, id}
		if d, ok := dests[k]; ok {
			return d
		}
		d := &control.DestinationStatus{Destination: id, Circuit: delivery.StateClosed}
		dests[k] = d
		get(ch)
		return d
	}
	for _, h := range health {
		c := get(h.Channel)
		c.DeadLetters += h.DeadLetters
		r := totals[h.Channel]
		r.f5, r.d5, r.f60, r.d60 = r.f5+h.Finished5m, r.d5+h.Delivered5m, r.f60+h.Finished60m, r.d60+h.Delivered60m
		dest(h.Channel, h.Destination).DeadLetters += h.DeadLetters
	}
	for _, st := range s.states.snapshot(now) {
		d := dest(st.Channel, st.Destination)
		d.Circuit = worse(d.Circuit, st.Circuit)
		if st.PausedUntil.After(now) && (d.PausedUntil == nil || st.PausedUntil.After(*d.PausedUntil)) {
			until := st.PausedUntil.UTC()
			d.PausedUntil = &until
		}
	}
	for k, d := range dests {
		channels[k[0]].Destinations = append(channels[k[0]].Destinations, *d)
	}
	out := control.Status{Channels: make([]control.ChannelStatus, 0, len(channels)), Disabled: []control.Destination{}, GeneratedAt: now}
	for name, c := range channels {
		if err := s.consumerFigures(ctx, c); err != nil {
			return control.Status{}, err
		}
		r := totals[name]
		c.SuccessRate5m, c.SuccessRate60m = rate(r.d5, r.f5), rate(r.d60, r.f60)
		slices.SortFunc(c.Destinations, func(a, b control.DestinationStatus) int { return cmp.Compare(a.Destination, b.Destination) })
		out.Channels = append(out.Channels, *c)
	}
	slices.SortFunc(out.Channels, func(a, b control.ChannelStatus) int { return cmp.Compare(a.Channel, b.Channel) })
	if s.deps.Disabled != nil {
		disabled, err := s.deps.Disabled(ctx)
		if err != nil {
			return control.Status{}, fmt.Errorf("status: disabled destinations: %w", err)
		}
		if disabled != nil {
			out.Disabled = disabled
		}
	}
	return out, nil
}

// ledgerHealth returns the ledger's figures, queried at most once per HealthMaxAge; polls
// meanwhile share the last answer.
func (s *Service) ledgerHealth(ctx context.Context, now, deadSince time.Time) ([]store.Health, error) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	if s.health != nil && now.Sub(s.healthAt) < s.cfg.HealthMaxAge {
		return s.health, nil
	}
	h, err := s.deps.Ledger.Health(ctx, now.Add(-5*time.Minute), now.Add(-time.Hour), deadSince)
	if err != nil {
		return nil, err
	}
	s.health, s.healthAt = h, now
	return h, nil
}

// consumerFigures fills a channel's backlog, in flight and redeliveries from its consumer on
// DELIVERIES. A channel whose consumer does not exist yet (no worker ever started) has none.
func (s *Service) consumerFigures(ctx context.Context, c *control.ChannelStatus) error {
	cctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	defer cancel()
	cons, err := s.deps.JetStream.Consumer(cctx, broker.StreamDeliveries, "deliver-"+c.Channel)
	if err != nil {
		if errorsIsNotFound(err) {
			return nil
		}
		return fmt.Errorf("status: %s consumer: %w", c.Channel, err)
	}
	info, err := cons.Info(cctx)
	if err != nil {
		return fmt.Errorf("status: %s consumer: %w", c.Channel, err)
	}
	c.Backlog, c.InFlight, c.Redeliveries = info.NumPending, info.NumAckPending, info.NumRedelivered
	return nil
}

func rate(delivered, finished int64) *float64 {
	if finished == 0 {
		return nil
	}
	r := float64(delivered) / float64(finished)
	return &r
}

// worse returns the worse of two circuit states: open, then half_open, then closed.
func worse(a, b string) string {
	rank := func(s string) int {
		switch s {
		case delivery.StateOpen:
			return 2
		case delivery.StateHalfOpen:
			return 1
		}
		return 0
	}
	if rank(b) > rank(a) {
		return b
	}
	return a
}

// stateCache holds the destination states of the circuits bucket, kept current by a watch.
type stateCache struct {
	mu     sync.Mutex
	states map[string]delivery.DestinationState // by key
}

func newStateCache() *stateCache {
	return &stateCache{states: map[string]delivery.DestinationState{}}
}

// follow applies the watch's updates until ctx ends.
func (c *stateCache) follow(ctx context.Context, w jetstream.KeyWatcher) {
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil {
				continue // the end of the initial values
			}
			c.mu.Lock()
			if e.Operation() != jetstream.KeyValuePut {
				delete(c.states, e.Key())
			} else {
				var st delivery.DestinationState
				if err := json.Unmarshal(e.Value(), &st); err == nil {
					st.At = e.Created()
					c.states[e.Key()] = st
				}
			}
			c.mu.Unlock()
		}
	}
}

// snapshot returns the states that are still live: the bucket's TTL removes a dead worker's
// states without telling the watch, so a state not refreshed within the TTL is dropped here.
func (c *stateCache) snapshot(now time.Time) []delivery.DestinationState {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]delivery.DestinationState, 0, len(c.states))
	for k, st := range c.states {
		if now.Sub(st.At) > delivery.StatesBucketConfig("", 1).TTL {
			delete(c.states, k)
			continue
		}
		out = append(out, st)
	}
	return out
}

// deadSince is the oldest creation time of a delivery whose dead letter DEAD may still hold:
// older letters have aged out of the stream and cannot be redriven.
func (s *Service) deadSince(ctx context.Context, now time.Time) (time.Time, error) {
	s.deadAgeMu.Lock()
	defer s.deadAgeMu.Unlock()
	if s.deadAge == 0 {
		sctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
		defer cancel()
		st, err := s.deps.JetStream.Stream(sctx, broker.StreamDead)
		if err != nil {
			return time.Time{}, fmt.Errorf("dead letters stream: %w", err)
		}
		s.deadAge = st.CachedInfo().Config.MaxAge
		if s.deadAge <= 0 {
			s.deadAge = 100 * 365 * 24 * time.Hour
		}
	}
	return now.Add(-s.deadAge), nil
}

func errorsIsNotFound(err error) bool { return errors.Is(err, jetstream.ErrConsumerNotFound) }
