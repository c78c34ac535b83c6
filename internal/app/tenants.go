package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dispatch"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/tenants"
)

// tenantParts are a process's pieces for tenant destinations: the watched table in every
// process, the senders and failure notes in workers, the service and the disabler in
// dispatchers.
type tenantParts struct {
	keyring  *secretbox.Keyring
	bucket   jetstream.KeyValue
	table    *tenants.Table
	channels *tenants.Channels
	health   *tenants.Health
	service  *tenants.Service
}

// reconcileEvery is how often a dispatcher makes the destinations bucket match the
// database, besides at start.
const reconcileEvery = 5 * time.Minute

// startTenants binds the destinations bucket and starts watching it, before the dispatcher
// routes or a worker sends anything, so that both know every tenant destination from their
// first event.
func (p *Process) startTenants(ctx context.Context, js jetstream.JetStream, topo broker.Topology, operator *channel.Registry, templates *render.Set) error {
	cfg := p.cfg
	kr, source, err := tenants.LoadKeyringFor(cfg.SecretsKey, cfg.DataDir, ownsDataDir(cfg))
	if err != nil {
		return &config.Error{Var: secretbox.EnvVar, Reason: err.Error()}
	}
	switch source {
	case tenants.KeysNone:
		p.log.Warn("tenant destinations are off: set " + secretbox.EnvVar + " to encrypt their secrets at rest")
	case tenants.KeysFromFile:
		p.log.Info("tenant destinations' secrets are encrypted with the key file in the data directory",
			"file", secretbox.KeyFileName, "key_id", kr.PrimaryID())
	}
	guarded, err := all.Guarded(cfg.SSRFAllow, cfg.SendTimeout, templates, p.log)
	if err != nil {
		return err
	}
	kctx, cancel := context.WithTimeout(ctx, time.Minute)
	bucket, err := broker.EnsureKeyValue(kctx, js, tenants.BucketConfig(cfg.SubjectPrefix, topo.Replicas))
	cancel()
	if err != nil {
		return fmt.Errorf("tenant destinations bucket: %w", err)
	}
	tp := &tenantParts{keyring: kr, bucket: bucket, channels: &tenants.Channels{
		Operator: operator, Guarded: guarded, OperatorConfigs: tenants.OperatorConfigsOf(cfg.Destinations),
	}}
	tp.table = tenants.NewTable(bucket, kr, tp.channels, p.log)
	if err := tp.table.Start(ctx); err != nil {
		return err
	}
	p.stops = append(p.stops, tp.table.Stop)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	err = tp.table.WaitSynced(wctx)
	cancel()
	if err != nil {
		return err
	}
	if cfg.DisableAfter > 0 {
		// Failures matter only to automatic disabling: with it off, workers note none.
		tp.health = tenants.NewHealth(bucket, tp.table, min(30*time.Second, max(cfg.DisableAfter/10, 100*time.Millisecond)), p.log)
	}
	p.tenants = tp
	return nil
}

// startTenantService starts, in a dispatcher, the service behind the API's tenant
// destinations, the reconciliation of the bucket with the database, and the automatic
// disabling of failing destinations.
func (p *Process) startTenantService(ctx context.Context, js jetstream.JetStream) error {
	tp := p.tenants
	if tp == nil {
		return nil
	}
	if p.ledger == nil {
		if p.parts.OpenLedger == nil {
			return errors.New("this binary has no ledger, which tenant destinations need")
		}
		ledger, err := p.parts.OpenLedger(ctx, p.cfg)
		if err != nil {
			return err
		}
		p.ledger = ledger
	}
	st, ok := p.ledger.(store.DestinationStore)
	if !ok {
		return fmt.Errorf("the ledger (%T) does not keep tenant destinations", p.ledger)
	}
	tp.service = tenants.NewService(tenants.ServiceDeps{Store: st, Bucket: tp.bucket, Keyring: tp.keyring,
		Channels: tp.channels, Local: tp.table, SendTimeout: p.cfg.SendTimeout, Logger: p.log})
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if n, err := tenants.Reconcile(rctx, st, tp.bucket); err != nil && rctx.Err() == nil {
				p.log.Warn("reconcile tenant destinations with the bucket", "err", err)
			} else if n > 0 {
				p.log.Info("tenant destinations bucket reconciled with the database", "changed", n)
			}
			select {
			case <-rctx.Done():
				return
			case <-time.After(reconcileEvery):
			}
		}
	}()
	p.stops = append(p.stops, func() { cancel(); <-done })
	disabler := &tenants.Disabler{Service: tp.service, Table: tp.table, Publisher: js, Prefix: p.cfg.SubjectPrefix,
		After: p.cfg.DisableAfter, Logger: p.log.With("component", "tenant_destinations"), Metrics: tenants.NewMetrics(p.reg)}
	disabler.Start(ctx)
	p.stops = append(p.stops, disabler.Stop)
	return nil
}

// Destinations is the service behind the API's tenant destinations, in a process that runs
// the dispatcher; nil otherwise.
func (p *Process) Destinations() control.Destinations {
	if p.tenants == nil || p.tenants.service == nil {
		return nil
	}
	return p.tenants.service
}

// TenantRevision is the revision of the destinations bucket that the process's view of
// tenant destinations has reached (0 without one): a change written at revision r is
// routed and sent by the process once TenantRevision() >= r.
func (p *Process) TenantRevision() uint64 {
	if p.tenants == nil {
		return 0
	}
	return p.tenants.table.Revision()
}

// tenantRoutes is what the dispatcher routes tenants' events with.
func (p *Process) tenantRoutes() dispatch.TenantRoutes {
	if p.tenants == nil {
		return nil
	}
	return p.tenants.table
}

// workerChannel is a worker's sender of the channel: with tenant destinations on, the
// operator's sender wrapped to send tenants' destinations through the guarded one.
func (p *Process) workerChannel(name string, operator channel.Channel) channel.Channel {
	if p.tenants == nil || p.tenants.keyring == nil {
		return operator
	}
	guarded, _ := p.tenants.channels.Sender(name)
	return tenants.NewSender(operator, guarded, p.tenants.health)
}

// workerDestinations resolves a worker's destinations: the operator's and, with tenant
// destinations on, the tenants'.
func (p *Process) workerDestinations(operator delivery.StaticDestinations) delivery.Destinations {
	if p.tenants == nil || p.tenants.keyring == nil {
		return operator
	}
	return tenants.Destinations{Operator: operator, Table: p.tenants.table}
}

// workerChannels is what Role.Channels "all" means: every channel with an operator
// destination and, with tenant destinations on, every built-in channel, since a tenant may
// add a destination to any of them at any time.
func (p *Process) workerChannels(registry *channel.Registry) []string {
	if p.tenants == nil || p.tenants.keyring == nil {
		return p.cfg.Channels()
	}
	return registry.Names()
}
