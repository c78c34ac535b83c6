package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/ops"
	"github.com/heraldhq/herald/internal/store"
)

// Ops returns the operators' engines of a dispatcher process (history, dead letters,
// replays, status, test sends), or nil in a process without the dispatcher.
func (p *Process) Ops() *ops.Service { return p.ops }

// startOps builds and starts the operators' engines over the dispatcher, the ledger and the
// streams. A dispatcher without a ledger of its own (the recorder runs elsewhere) opens it.
func (p *Process) startOps(ctx context.Context, js jetstream.JetStream, topo broker.Topology, registry *channel.Registry) error {
	cfg := p.cfg
	if p.ledger == nil {
		if p.parts.OpenLedger == nil {
			return fmt.Errorf("this binary has no ledger, which the operators' API needs")
		}
		ledger, err := p.parts.OpenLedger(ctx, cfg)
		if err != nil {
			return err
		}
		p.ledger = ledger
	}
	ledger, ok := p.ledger.(ops.Ledger)
	if !ok {
		return fmt.Errorf("the ledger (%T) has no history queries", p.ledger)
	}
	kctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	replays, err := broker.EnsureKeyValue(kctx, js, ops.ReplaysBucketConfig(cfg.SubjectPrefix, topo.Replicas))
	if err != nil {
		return fmt.Errorf("replays bucket: %w", err)
	}
	circuits, err := broker.EnsureKeyValue(kctx, js, delivery.StatesBucketConfig(cfg.SubjectPrefix, topo.Replicas))
	if err != nil {
		return fmt.Errorf("circuits bucket: %w", err)
	}
	attempts, err := broker.EnsureKeyValue(kctx, js, delivery.AttemptsBucketConfig(cfg.SubjectPrefix, topo.Replicas))
	if err != nil {
		return fmt.Errorf("attempts bucket: %w", err)
	}
	deps := ops.Deps{
		Ledger:       ledger,
		JetStream:    js,
		Dispatcher:   p.dispatcher,
		Attempts:     delivery.NewKVAttempts(attempts),
		Replays:      replays,
		Circuits:     circuits,
		Channels:     registry,
		Destinations: cfg.Destinations,
		Logger:       p.log,
	}
	if p.tenants != nil && p.tenants.service != nil {
		// The tenants' service shows them as its own API does: config masked, with the
		// reason they are off.
		deps.Disabled = p.tenants.service.Disabled
	} else if ds, ok := p.ledger.(store.DestinationStore); ok {
		deps.Disabled = disabledDestinations(ds)
	}
	s := ops.New(ops.Config{Prefix: cfg.SubjectPrefix, Channels: registry.Names(), SendTimeout: cfg.SendTimeout}, deps)
	if err := s.Start(ctx); err != nil {
		return err
	}
	p.ops = s
	p.stops = append(p.stops, s.Stop)
	return nil
}

// stateBoard starts the board on which a channel's worker publishes its destinations'
// circuit and pause states for the admin status. A bucket that cannot be made only costs
// the status those states: the worker runs without.
func (p *Process) stateBoard(ctx context.Context, js jetstream.JetStream, topo broker.Topology, name string) *delivery.StateBoard {
	kctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	kv, err := broker.EnsureKeyValue(kctx, js, delivery.StatesBucketConfig(p.cfg.SubjectPrefix, topo.Replicas))
	if err != nil {
		p.log.Warn("circuits bucket unavailable: the admin status will not show this worker's circuits", "channel", name, "err", err)
		return nil
	}
	b := delivery.NewStateBoard(kv, name, nuid.Next(), p.log.With("component", "worker", "channel", name))
	p.stops = append(p.stops, b.Stop)
	return b
}

// disabledDestinations lists the tenants' disabled destinations from notification_config.
// Their config is sealed, so the status shows none of it: the destination's own API shows
// it masked.
func disabledDestinations(ds store.DestinationStore) func(context.Context) ([]control.Destination, error) {
	return func(ctx context.Context) ([]control.Destination, error) {
		all, err := ds.ListDestinations(ctx, "")
		if err != nil {
			return nil, err
		}
		out := []control.Destination{}
		for _, d := range all {
			if d.Enabled {
				continue
			}
			out = append(out, control.Destination{
				Tenant: d.Tenant, ID: d.ID, Channel: d.Channel, Config: json.RawMessage(`{}`),
				EventTypes: d.EventTypes, Enabled: false, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
			})
		}
		return out, nil
	}
}
