package spot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// Publisher publishes one event and waits for the stream's ack; *sdk.Publisher is one.
type Publisher interface {
	Publish(ctx context.Context, e *sdk.Event) (sdk.PubAck, error)
}

// Defaults of Config.
const (
	DefaultInterval    = 5 * time.Second
	DefaultRetryMin    = 250 * time.Millisecond
	DefaultRetryMax    = 5 * time.Second
	DefaultEventSource = "spot-monitor"
)

// Config configures a Monitor.
type Config struct {
	// Source reads the cloud's metadata service. Required.
	Source Source
	// Publisher publishes the events. Required.
	Publisher Publisher
	// Tenant is the tenant the events belong to; empty for none.
	Tenant string
	// NodeID names the node in the events (node_id). Defaults to the instance id.
	NodeID string
	// EventSource is the events' CloudEvents source. Defaults to DefaultEventSource.
	EventSource string
	// Interval is the time between two polls of the metadata service. Defaults to
	// DefaultInterval (5 s), a small share of the shortest notice (GCP's 30 s).
	Interval time.Duration
	// RetryMin and RetryMax bound the backoff between failed publishes or failed reads of
	// the instance id, which doubles from RetryMin up to RetryMax. Default to
	// DefaultRetryMin and DefaultRetryMax: past a NATS outage, a notice goes out within
	// RetryMax plus the time to reconnect.
	RetryMin, RetryMax time.Duration
	// Acknowledge approves each notice with the provider once its event is published, if
	// the Source is an Acknowledger (Azure). Defaults to false: see Azure.
	Acknowledge bool
	// Log receives the monitor's lines. Defaults to discarding them.
	Log *slog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

func (c Config) withDefaults() Config {
	if c.EventSource == "" {
		c.EventSource = DefaultEventSource
	}
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.RetryMin <= 0 {
		c.RetryMin = DefaultRetryMin
	}
	if c.RetryMax <= 0 {
		c.RetryMax = DefaultRetryMax
	}
	if c.RetryMax < c.RetryMin {
		c.RetryMax = c.RetryMin
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Source == nil:
		return errors.New("spot monitor: no metadata source")
	case c.Publisher == nil:
		return errors.New("spot monitor: no publisher")
	case c.Tenant != "" && !sdk.ValidTenant(c.Tenant):
		return fmt.Errorf("spot monitor: tenant %q is not a single token of letters, digits, '-' and '_'", c.Tenant)
	}
	return nil
}

// Monitor polls a metadata service and publishes one node.terminated event per notice.
type Monitor struct {
	c Config
}

// NewMonitor checks c and returns a Monitor.
func NewMonitor(c Config) (*Monitor, error) {
	c = c.withDefaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &Monitor{c: c}, nil
}

// pending is an event built for a notice and not yet acknowledged by the stream.
type pending struct {
	notice    Notice
	event     *sdk.Event
	remaining time.Duration // the time remaining the event states
	attempts  int
}

// Run polls until ctx ends, and returns nil then. It first reads the instance id, trying
// again with backoff until the metadata service answers. Each new notice becomes one event
// that is published at once and, while the publish fails (NATS down, a leader election),
// again after a backoff, for as long as the monitor runs: a notice is never dropped, and
// the same event, with the same id, goes each time. A notice seen again on later polls is
// not published again.
func (m *Monitor) Run(ctx context.Context) error {
	log := m.c.Log.With("component", "spot-monitor", "cloud", m.c.Source.Cloud())
	instanceID, err := m.instanceID(ctx, log)
	if err != nil {
		return nil // ctx ended
	}
	nodeID := m.c.NodeID
	if nodeID == "" {
		nodeID = instanceID
	}
	log = log.With("instance_id", instanceID, "node_id", nodeID)
	log.Info("watching for termination notices", "interval", m.c.Interval.String())

	seen := map[string]bool{} // notice keys already turned into events
	var queue []*pending      // in the order they were seen
	backoff := m.c.RetryMin
	pollFailing := false
	for {
		notices, err := m.c.Source.Notices(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			if !pollFailing { // one line per outage of the metadata service, not per poll
				log.Warn("reading the metadata service failed; still polling", "err", err)
			}
			pollFailing = true
		case pollFailing:
			log.Info("metadata service answers again")
			pollFailing = false
		}
		for _, n := range notices {
			if seen[n.Key] {
				continue
			}
			p, err := m.newPending(instanceID, nodeID, n)
			if err != nil {
				log.Error("cannot build the event of a notice", "action", n.Action, "err", err)
				continue
			}
			seen[n.Key] = true
			queue = append(queue, p)
			log.Warn("termination notice", "action", n.Action, "not_before", n.NotBefore,
				"time_remaining", p.remaining.String(), "event_id", p.event.ID)
		}

		queue = m.publish(ctx, log, queue)
		wait := m.c.Interval
		if len(queue) > 0 {
			wait = min(backoff, m.c.Interval)
			backoff = min(backoff*2, m.c.RetryMax)
		} else {
			backoff = m.c.RetryMin
		}
		if !sleep(ctx, wait) {
			return nil
		}
	}
}

// publish tries each queued event once and returns those still unpublished.
func (m *Monitor) publish(ctx context.Context, log *slog.Logger, queue []*pending) []*pending {
	var left []*pending
	for i, p := range queue {
		if ctx.Err() != nil {
			return append(left, queue[i:]...)
		}
		p.attempts++
		ack, err := m.c.Publisher.Publish(ctx, p.event)
		if err != nil {
			var ve *sdk.ValidationError
			switch {
			case ctx.Err() != nil:
				left = append(left, p)
			case errors.As(err, &ve): // no retry can fix it
				log.Error("the event of a notice is invalid; dropped", "event_id", p.event.ID, "err", err)
			default:
				log.Warn("publishing node.terminated failed; retrying", "event_id", p.event.ID,
					"attempt", p.attempts, "err", err)
				left = append(left, p)
			}
			continue
		}
		log.Info("published node.terminated", "event_id", p.event.ID, "stream", ack.Stream,
			"seq", ack.Sequence, "duplicate", ack.Duplicate, "attempts", p.attempts)
		if a, ok := m.c.Source.(Acknowledger); ok && m.c.Acknowledge {
			if err := a.Acknowledge(ctx, p.notice); err != nil {
				log.Warn("approving the notice failed; the provider proceeds at its announced time", "err", err)
			} else {
				log.Info("approved the notice with the provider", "action", p.notice.Action)
			}
		}
	}
	return left
}

// newPending builds the event of notice n.
func (m *Monitor) newPending(instanceID, nodeID string, n Notice) (*pending, error) {
	now := m.c.Now()
	remaining := time.Duration(0)
	if !n.NotBefore.IsZero() && n.NotBefore.After(now) {
		remaining = n.NotBefore.Sub(now)
	}
	ev, err := sdk.NewNodeTerminated(m.c.Tenant, sdk.NodeTerminated{
		NodeID:        nodeID,
		TimeRemaining: sdk.SecondsOf(remaining.Round(time.Second)),
		Reason:        n.Reason,
	}, sdk.WithID(EventID(m.c.Source.Cloud(), instanceID, n.Key)), sdk.WithSource(m.c.EventSource), sdk.WithTime(now))
	if err != nil {
		return nil, err
	}
	return &pending{notice: n, event: ev, remaining: remaining.Round(time.Second)}, nil
}

// instanceID reads the instance id, trying again with backoff until it works or ctx ends.
func (m *Monitor) instanceID(ctx context.Context, log *slog.Logger) (string, error) {
	backoff := m.c.RetryMin
	for {
		id, err := m.c.Source.InstanceID(ctx)
		if err == nil {
			return id, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		log.Warn("reading the instance id failed; retrying", "err", err, "retry_in", backoff.String())
		if !sleep(ctx, backoff) {
			return "", ctx.Err()
		}
		backoff = min(backoff*2, m.c.RetryMax)
	}
}

// EventID is the id of the event of a notice: the same for the same cloud, instance and
// notice key, whichever process derives it and however often, so that every copy after
// the first is dropped as a duplicate. It is "spot-<cloud>-" and 32 hex digits of a
// SHA-256 of the three, which keeps it free of the dots and spaces a webhook-id refuses.
func EventID(cloud, instanceID, key string) string {
	h := sha256.Sum256([]byte(cloud + "\x00" + instanceID + "\x00" + key))
	return "spot-" + cloud + "-" + hex.EncodeToString(h[:16])
}

// sleep waits d or until ctx ends, and reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
