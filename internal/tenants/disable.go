package tenants

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/sdk"
)

// TypeDestinationDisabled is the event published when a tenant destination is disabled for
// failing too long.
const TypeDestinationDisabled = "destination.disabled"

// EventPublisher publishes an event to EVENTS and waits for the acknowledgement.
type EventPublisher interface {
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// Disabler disables tenant destinations that have failed for After without a success, in
// every dispatcher replica: each looks at the failure states its Table holds every Every.
// For each destination over the limit it publishes destination.disabled, then disables the
// destination (DisabledReason "failing"), then clears the failure state. The event's id
// depends only on the destination and when it started failing, so two replicas, or one that
// crashed half-way and tries again, publish one event: EVENTS' duplicate window and the
// dispatcher's idempotency record drop the copies.
type Disabler struct {
	Service   *Service
	Table     *Table
	Publisher EventPublisher
	// Prefix is the subject prefix.
	Prefix string
	// After is NOTIFICATIONS_DESTINATION_DISABLE_AFTER; zero never disables.
	After time.Duration
	// Every is how often failure states are checked. Defaults to After/10, between 100ms
	// and 1m.
	Every  time.Duration
	Logger *slog.Logger
	// Metrics counts the disables; nil counts nothing.
	Metrics *Metrics

	stop context.CancelFunc
	done chan struct{}
}

// Start runs the checks until Stop.
func (d *Disabler) Start(ctx context.Context) {
	d.done = make(chan struct{})
	if d.After <= 0 {
		close(d.done)
		return
	}
	every := d.Every
	if every <= 0 {
		every = min(max(d.After/10, 100*time.Millisecond), time.Minute)
	}
	ctx, d.stop = context.WithCancel(context.WithoutCancel(ctx))
	go func() {
		defer close(d.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				d.check(ctx)
			}
		}
	}()
}

// Stop ends the checks.
func (d *Disabler) Stop() {
	if d.stop != nil {
		d.stop()
	}
	if d.done != nil {
		<-d.done
	}
}

func (d *Disabler) check(ctx context.Context) {
	now := time.Now()
	for _, f := range d.Table.FailingDestinations() {
		if now.Sub(f.Since) < d.After {
			continue
		}
		if err := d.disable(ctx, f); err != nil && ctx.Err() == nil {
			d.Logger.Warn("automatic disable of a failing destination, will try again", "tenant_id", f.Tenant, "destination", f.ID, "err", err)
		}
	}
}

func (d *Disabler) disable(ctx context.Context, f Failing) error {
	s := d.Service
	clear := func() {
		cctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		_ = s.deps.Bucket.Delete(cctx, healthKey(f.Tenant, f.ID), jetstream.LastRevision(f.revision))
	}
	dest, rec, sc, err := s.open(ctx, f.Tenant, f.ID)
	if errors.Is(err, control.ErrNotFound) || err == nil && !dest.Enabled {
		clear() // deleted or disabled meanwhile: nothing to do
		return nil
	}
	if err != nil {
		return err
	}
	ev, err := DisabledEvent(f, dest.Channel)
	if err != nil {
		return err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	msg := &nats.Msg{Subject: ev.Subject(d.Prefix), Data: body, Header: nats.Header{jetstream.MsgIDHeader: {ev.ID}}}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	_, err = d.Publisher.PublishMsg(pctx, msg)
	cancel()
	if err != nil {
		return fmt.Errorf("publish %s: %w", TypeDestinationDisabled, err)
	}
	dest.Enabled = false
	rec.DisabledReason = DisabledFailing
	if _, err := s.save(ctx, dest, rec, sc, ""); err != nil {
		return err
	}
	clear()
	if d.Metrics != nil {
		d.Metrics.Disabled.WithLabelValues(dest.Channel).Inc()
	}
	d.Logger.Warn("tenant destination disabled after failing too long", "tenant_id", f.Tenant, "destination", f.ID,
		"channel", dest.Channel, "failing_since", f.Since, "last_error", f.LastError)
	return nil
}

// DisabledEvent is the destination.disabled event of a destination that failed since
// f.Since: its id is a hash of the tenant, the destination and that time, the same in every
// replica.
func DisabledEvent(f Failing, channelName string) (*sdk.Event, error) {
	h := sha256.Sum256([]byte(f.Tenant + "\x00" + f.ID + "\x00" + strconv.FormatInt(f.Since.UnixNano(), 10)))
	id := "destination-disabled-" + hex.EncodeToString(h[:16])
	return sdk.New(TypeDestinationDisabled, f.Tenant, map[string]any{
		"destination_id": f.ID,
		"channel":        channelName,
		"failing_since":  f.Since.UTC().Format(time.RFC3339Nano),
		"last_error":     f.LastError,
	}, sdk.WithID(id), sdk.WithSource("herald"), sdk.WithSeverity(sdk.SeverityWarning))
}
