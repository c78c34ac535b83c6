package dispatch

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/results"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// ErrInvalidEvent is returned by Validate for an event the dispatcher refuses; it was
// dead-lettered when it was first consumed.
var ErrInvalidEvent = errors.New("invalid event")

// Validate checks a message of EVENTS as the dispatcher does before it routes one, and
// returns the event. A replay re-dispatches only what the dispatcher would dispatch.
func (d *Dispatcher) Validate(msg jetstream.Msg) (*sdk.Event, error) {
	ev, _, r := d.validate(msg)
	if r != nil {
		return nil, fmt.Errorf("%w: %s", ErrInvalidEvent, r.Reason)
	}
	return ev, nil
}

// Route returns the destinations an event goes to now: the operator's rules' and its
// tenant's, exactly as the dispatcher routes the events it consumes.
func (d *Dispatcher) Route(ev *sdk.Event) []channel.Destination { return d.route(ev) }

// ReplayDeliveryID is the delivery id of an event's delivery to a destination within a
// replay: <event id>:<destination id>:<replay id>. It is the replayed delivery's webhook-id,
// so receivers that deduplicate on webhook-id receive the replay (it is another delivery,
// by design), while its own retries share it. replayID must hold no '.' (webhook-ids may
// not) and no ':'.
func ReplayDeliveryID(eventID, destinationID, replayID string) string {
	return broker.DeliveryID(eventID, destinationID) + ":" + replayID
}

// Redispatch publishes an event again, as replay replayID, to dests: one delivery per
// destination and its pending record for the ledger, then waits for every
// acknowledgement, as a fan-out does. It bypasses the idempotency record on purpose (the
// event was dispatched before: that is the point of a replay), and the deliveries' ids and
// Nats-Msg-Ids carry the replay id (see ReplayDeliveryID), so that DELIVERIES' duplicate
// window takes them for new deliveries while a repeated Redispatch of one replay, after a
// failed wait, is dropped as a copy. data is the event exactly as published.
//
// The Dispatcher must be started.
func (d *Dispatcher) Redispatch(ctx context.Context, data []byte, ev *sdk.Event, dests []channel.Destination, replayID string) error {
	if replayID == "" || strings.ContainsAny(replayID, ".:") {
		return fmt.Errorf("replay id %q: empty, or holds '.' or ':'", replayID)
	}
	if d.pending == nil {
		return errors.New("redispatch: the dispatcher is not started")
	}
	return d.publishDeliveries(ctx, data, ev, dests, func(dest channel.Destination) (string, string) {
		id := ReplayDeliveryID(ev.ID, dest.ID, replayID)
		return id, id
	})
}

// publishDeliveries publishes one delivery per destination, with the ids that ids gives
// (the delivery id and the Nats-Msg-Id), and one pending record per delivery for the
// ledger, then waits for every acknowledgement. The deliveries go out asynchronously; the
// pending records join those of other events in shared RESULTS messages (see
// broker.Batcher), which saves JetStream a stored and consumed message per event.
func (d *Dispatcher) publishDeliveries(ctx context.Context, data []byte, ev *sdk.Event, dests []channel.Destination, ids func(channel.Destination) (deliveryID, msgID string)) error {
	futures := make([]jetstream.PubAckFuture, 0, len(dests))
	pending := make([][]byte, 0, len(dests))
	now := time.Now().UTC()
	tenant := ev.Tenant()
	for _, dest := range dests {
		id, msgID := ids(dest)
		// The header names are canonical already: assigning them skips Header.Set's
		// canonicalisation, one of the fan-out's costs per delivery.
		m := &nats.Msg{Subject: d.subj.Deliver(dest.Channel, tenant), Data: data, Header: nats.Header{
			jetstream.MsgIDHeader:    {msgID},
			broker.HeaderDeliveryID:  {id},
			broker.HeaderDestination: {dest.ID},
			broker.HeaderEventID:     {ev.ID},
			broker.HeaderEventType:   {ev.Type},
			broker.HeaderTenant:      {tenant},
		}}
		f, err := d.deps.Publisher.PublishMsgAsync(m, jetstream.WithStallWait(d.cfg.PublishTimeout))
		if err != nil {
			return fmt.Errorf("publish delivery %s: %w", id, err)
		}
		futures = append(futures, f)
		b, err := results.Encode(store.Result{
			DeliveryID: id, EventID: ev.ID, TenantID: tenant, EventType: ev.Type,
			Channel: dest.Channel, Destination: dest.ID, Status: store.StatusPending, At: now,
		})
		if err != nil {
			return fmt.Errorf("encode pending result: %w", err)
		}
		pending = append(pending, b)
	}
	// The batcher bounds its wait by PublishTimeout itself.
	if err := d.pending.Add(ctx, pending...); err != nil {
		return fmt.Errorf("publish pending results: %w", err)
	}
	return broker.WaitAcks(ctx, d.cfg.PublishTimeout, futures...)
}
