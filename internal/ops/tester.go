package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/sdk"
)

// TestEventType is the type of the events test sends deliver.
const TestEventType = "herald.test"

// TestChannel sends a herald.test event to each of the channel's operator destinations now,
// through the channel itself and not through the queue, and answers each outcome. The send
// is not retried and not recorded in the ledger: it tests the destination, not the fleet.
func (s *Service) TestChannel(ctx context.Context, name string) ([]control.TestOutcome, error) {
	if s.deps.Channels == nil {
		return nil, fmt.Errorf("test sends: no channels in this process")
	}
	ch, ok := s.deps.Channels.Get(name)
	if !ok {
		return nil, &control.FieldError{Field: "channel", Message: "unknown channel " + quote(name)}
	}
	var dests []channel.Destination
	for _, d := range s.deps.Destinations {
		if d.Channel == name {
			dests = append(dests, d)
		}
	}
	if len(dests) == 0 {
		return nil, &control.FieldError{Field: "channel", Message: "channel " + quote(name) + " has no destination configured"}
	}
	ev, err := sdk.New(TestEventType, "", map[string]any{
		"message": "A test notification from Herald: this destination is reachable.",
	}, sdk.WithSource("herald/ops"))
	if err != nil {
		return nil, fmt.Errorf("test event: %w", err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("test event: %w", err)
	}
	out := make([]control.TestOutcome, 0, len(dests))
	for _, d := range dests {
		out = append(out, s.testSend(ctx, ch, ev, raw, d))
	}
	return out, nil
}

// testSend sends one test notification and describes its outcome.
func (s *Service) testSend(ctx context.Context, ch channel.Channel, ev *sdk.Event, raw []byte, d channel.Destination) control.TestOutcome {
	id := broker.DeliveryID(ev.ID, d.ID)
	sctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()
	start := time.Now()
	o := ch.Send(sctx, channel.Notification{DeliveryID: id, Attempt: 1, Event: ev, Raw: raw, Destination: d}).Redacted(d.Secrets()...)
	res := control.TestOutcome{
		DeliveryID: id, EventID: ev.ID, Channel: d.Channel, Destination: d.ID,
		DurationMS: time.Since(start).Milliseconds(),
	}
	res.Settle(o)
	return res
}
