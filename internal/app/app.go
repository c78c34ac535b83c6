// Package app assembles Herald's processes from configuration: the dispatcher (with the
// recorder and, on the single-machine default, the embedded NATS server), channel workers,
// or the whole fleet in one process. The binaries in cmd/ only pick a Role and call Run.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dispatch"
	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/ops"
	"github.com/heraldhq/herald/internal/recorder"
	"github.com/heraldhq/herald/internal/store"
)

// Role says which parts a process runs.
type Role struct {
	// Name names the process in logs and NATS connections.
	Name string
	// Dispatcher runs the dispatcher, and the recorder unless configuration turns it off.
	Dispatcher bool
	// Channels lists the channels this process delivers; "all" means every channel that has
	// a destination.
	Channels []string
	// EmbeddedNATS starts the in-process NATS server when NOTIFICATIONS_NATS_URL is unset.
	// A process that does not own it connects to it at NOTIFICATIONS_EMBEDDED_NATS_ADDR.
	// It needs Parts.StartNATS.
	EmbeddedNATS bool
	// Parts are the heavy pieces that only some binaries link in (see package parts).
	Parts Parts
}

// Parts are the pieces of a process that only the binaries which use them link in: the
// embedded NATS server and the ledgers (PostgreSQL, SQLite). A channel worker needs neither,
// and leaving them out keeps its binary, and its memory, small. Package parts provides them.
type Parts struct {
	// StartNATS starts the in-process NATS server with its files under dataDir and at most
	// maxStorage bytes of JetStream storage, listening on addr, accepting users (see package
	// natsauth). Required for Role.EmbeddedNATS.
	StartNATS func(dataDir, addr string, maxStorage int64, users []natsauth.User, log *slog.Logger) (EmbeddedServer, error)
	// OpenLedger opens and migrates the ledger the configuration names. Required for
	// Role.Dispatcher when the recorder runs, and for migrate.
	OpenLedger func(ctx context.Context, cfg *config.Config) (store.Store, error)
	// PendingMigrations names the migrations the configured ledger has not applied, so
	// that migrate can say what it applied. Optional.
	PendingMigrations func(ctx context.Context, cfg *config.Config) ([]string, error)
}

// EmbeddedServer is the in-process NATS server as a process uses it.
type EmbeddedServer interface {
	nats.InProcessConnProvider
	ClientURL() string
	Shutdown()
	WaitForShutdown()
}

// Process is a running Herald process. Build it with Start; end it with Stop.
type Process struct {
	cfg  *config.Config
	log  *slog.Logger
	http *obs.Server

	embedded EmbeddedServer
	nc       *nats.Conn
	ledger   store.Store
	stops    []func()
	serveErr chan error
	closed   chan struct{} // closed when the NATS connection is
	metrics  *delivery.Metrics
	parts    Parts
	// dispatcher and ops are set in a process that runs the dispatcher (see ops.go).
	dispatcher *dispatch.Dispatcher
	ops        *ops.Service
	stopOnce   sync.Once

	// reg is the process's metrics registry.
	reg prometheus.Registerer

	// eventTypes bounds the event_type label of every metric of the process.
	eventTypes *obs.EventTypes
	// tenants are the pieces of tenant destinations (see tenants.go).
	tenants *tenantParts
}

// HTTPAddr is the address the process's HTTP server listens on.
func (p *Process) HTTPAddr() string { return p.http.Addr() }

// NATSURL is the URL of the NATS server the process is connected to.
func (p *Process) NATSURL() string { return p.nc.ConnectedUrlRedacted() }

// Err reports a failure of the HTTP server after start.
func (p *Process) Err() <-chan error { return p.serveErr }

// Start builds and starts every part of the role. On error, whatever was started is stopped.
func Start(ctx context.Context, cfg *config.Config, role Role, log *slog.Logger) (_ *Process, err error) {
	p := &Process{cfg: cfg, log: log, parts: role.Parts, serveErr: make(chan error, 1), closed: make(chan struct{})}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()
	reg := prometheus.NewRegistry()
	p.reg = reg
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	checks := map[string]obs.Check{}
	mux := http.NewServeMux() // the HTTP server's routes beyond metrics and health

	if !cfg.Enabled {
		log.Warn("notifications are disabled (NOTIFICATIONS_ENABLED=false): serving health and metrics only")
	} else {
		// Configuration mistakes first, before anything starts.
		templates, err := all.Templates(cfg.TemplatesDir)
		if err != nil {
			return nil, &config.Error{Var: "NOTIFICATIONS_TEMPLATES_DIR", Reason: err.Error()}
		}
		// Metrics name the types the operator names (exact routes, own templates); any
		// other type a producer invents is "other".
		named := templates.Types()
		for _, r := range cfg.Routes {
			named = append(named, r.Pattern)
		}
		p.eventTypes = obs.NewEventTypes(named...)
		registry, err := all.Default(channel.NewHTTPClient(cfg.SendTimeout), templates, log)
		if err != nil {
			return nil, err
		}
		if err := validateDestinations(cfg, registry); err != nil {
			return nil, err
		}
		if err := p.connect(role, registry.Names()); err != nil {
			return nil, err
		}
		checks["nats"] = func(context.Context) error {
			if !p.nc.IsConnected() {
				return errors.New("not connected")
			}
			return nil
		}
		js, err := jetstream.New(p.nc)
		if err != nil {
			return nil, fmt.Errorf("jetstream: %w", err)
		}
		topo := broker.Topology{Prefix: cfg.SubjectPrefix, DuplicateWindow: cfg.DuplicateWindow, Replicas: cfg.StreamReplicas,
			MaxBytes: cfg.StreamMaxBytes}
		actx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = topo.Apply(actx, js)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("apply streams: %w", err)
		}
		var deliveries jetstream.Stream
		err = broker.RetryUnanswered(ctx, func(ctx context.Context) (err error) {
			deliveries, err = js.Stream(ctx, broker.StreamDeliveries)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("deliveries stream: %w", err)
		}
		if err := p.startTenants(ctx, js, topo, registry, templates); err != nil {
			return nil, err
		}
		sampler := delivery.NewDepthSampler(deliveries, p.workerMetrics(reg), 0)
		sampler.Start(ctx)
		p.stops = append(p.stops, sampler.Stop)
		if role.Dispatcher {
			if err := p.startDispatcher(ctx, js, topo, reg, checks); err != nil {
				return nil, err
			}
			if err := p.startTenantService(ctx, js); err != nil {
				return nil, err
			}
			janitor := delivery.NewJanitor(p.nc, deliveries, js, cfg.SubjectPrefix, log)
			if err := janitor.Start(ctx); err != nil {
				return nil, err
			}
			p.stops = append(p.stops, janitor.Stop)
			if err := p.startOps(ctx, js, topo, registry); err != nil {
				return nil, err
			}
			if err := p.mountAPI(ctx, mux, p.apiServices()); err != nil {
				return nil, err
			}
			p.mountUI(mux)
		}
		channels := role.Channels
		if len(channels) == 1 && channels[0] == "all" {
			channels = p.workerChannels(registry)
		}
		for _, name := range channels {
			if err := p.startWorker(ctx, js, topo, registry, name, reg); err != nil {
				return nil, err
			}
		}
	}

	p.http, err = obs.NewServer(cfg.HTTPAddr, reg, checks, mux, log)
	if err != nil {
		return nil, fmt.Errorf("NOTIFICATIONS_HTTP_ADDR: %w", err)
	}
	go func() {
		if err := p.http.Serve(); err != nil {
			p.serveErr <- err
		}
	}()
	return p, nil
}

// connect joins the configured NATS, or starts or reaches the embedded server, as the
// process's NATS role (see package natsauth; channels are the channels built in).
func (p *Process) connect(role Role, channels []string) error {
	url := p.cfg.NATSURL
	var opts []nats.Option
	if url == "" && role.EmbeddedNATS {
		if role.Parts.StartNATS == nil {
			return errors.New("this binary does not embed a NATS server: set NOTIFICATIONS_NATS_URL")
		}
		users, err := natsauth.EnsureSeeds(natsauth.CredentialsDir(p.cfg.DataDir), p.cfg.SubjectPrefix, natsauth.EmbeddedRoles(channels))
		if err != nil {
			return fmt.Errorf("NOTIFICATIONS_DATA_DIR: %w", err)
		}
		s, err := role.Parts.StartNATS(p.cfg.DataDir, p.cfg.EmbeddedNATSAddr, p.cfg.EmbeddedMaxStorage, users, p.log)
		if err != nil {
			return fmt.Errorf("NOTIFICATIONS_EMBEDDED_NATS_ADDR: %w", err)
		}
		p.embedded = s
		url = s.ClientURL()
		opts = append(opts, nats.InProcessServer(s))
	} else if url == "" {
		url = "nats://" + p.cfg.EmbeddedNATSAddr
	}
	sec, err := natsauth.ClientFor(p.cfg.NATSURL, p.cfg.DataDir, natsauth.ProcessRole(role.Dispatcher, role.Channels),
		natsauth.Client{Creds: p.cfg.NATSCreds, CA: p.cfg.NATSTLSCA, Cert: p.cfg.NATSTLSCert, Key: p.cfg.NATSTLSKey})
	if err != nil {
		return fmt.Errorf("NOTIFICATIONS_NATS_CREDS: %w", err)
	}
	opts = append(opts, nats.ClosedHandler(func(*nats.Conn) { close(p.closed) }))
	nc, err := broker.Connect(url, "herald-"+p.roleName(role), p.log, append(opts, sec...)...)
	if err != nil {
		return fmt.Errorf("NOTIFICATIONS_NATS_URL: %w", err)
	}
	p.nc = nc
	return nil
}

func (p *Process) roleName(r Role) string {
	if r.Name != "" {
		return r.Name
	}
	return "process"
}

func (p *Process) startDispatcher(ctx context.Context, js jetstream.JetStream, topo broker.Topology, reg prometheus.Registerer, checks map[string]obs.Check) error {
	cfg := p.cfg
	kctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	kv, err := broker.EnsureKeyValue(kctx, js, dispatch.IdempotencyBucketConfig(cfg.SubjectPrefix, cfg.IdempotencyWindow, topo.Replicas))
	if err != nil {
		return fmt.Errorf("NOTIFICATIONS_IDEMPOTENCY_WINDOW: idempotency bucket: %w", err)
	}
	ccfg, err := topo.Consumer(broker.StreamEvents, broker.ConsumerDispatcher, "")
	if err != nil {
		return err
	}
	ccfg.MaxAckPending = max(ccfg.MaxAckPending, 4*cfg.DispatchConcurrency)
	var cons jetstream.Consumer
	err = broker.RetryUnanswered(ctx, func(ctx context.Context) (err error) {
		cons, err = js.CreateOrUpdateConsumer(ctx, broker.StreamEvents, ccfg)
		return err
	})
	if err != nil {
		return fmt.Errorf("dispatcher consumer: %w", err)
	}
	d := dispatch.New(dispatch.Config{
		Prefix:        cfg.SubjectPrefix,
		Concurrency:   cfg.DispatchConcurrency,
		MaxEventBytes: cfg.MaxEventBytes,
	}, dispatch.Deps{
		Consumer:    cons,
		Publisher:   js,
		Idempotency: dispatch.NewIdempotency(kv),
		Router:      dispatch.NewRouter(cfg.Destinations, cfg.Routes),
		Tenants:     p.tenantRoutes(),
		Metrics:     dispatch.NewMetrics(reg),
		Logger:      p.log,
		EventTypes:  p.eventTypes,
	})
	if err := d.Start(ctx); err != nil {
		return err
	}
	p.stops = append(p.stops, d.Stop)
	p.dispatcher = d

	if !cfg.Recorder {
		return nil
	}
	if p.parts.OpenLedger == nil {
		return errors.New("this binary has no ledger: run the recorder in the dispatcher")
	}
	ledger, err := p.parts.OpenLedger(ctx, cfg)
	if err != nil {
		return err
	}
	p.ledger = ledger
	checks["ledger"] = ledger.Ping
	rcfg, err := topo.Consumer(broker.StreamResults, broker.ConsumerRecorder, "")
	if err != nil {
		return err
	}
	var rcons jetstream.Consumer
	err = broker.RetryUnanswered(ctx, func(ctx context.Context) (err error) {
		rcons, err = js.CreateOrUpdateConsumer(ctx, broker.StreamResults, rcfg)
		return err
	})
	if err != nil {
		return fmt.Errorf("recorder consumer: %w", err)
	}
	r := recorder.New(recorder.Config{Batch: cfg.RecorderBatch, Flush: cfg.RecorderFlush}, rcons, ledger, p.log, reg)
	if err := r.Start(ctx); err != nil {
		return err
	}
	p.stops = append(p.stops, r.Stop)
	return nil
}

func (p *Process) startWorker(ctx context.Context, js jetstream.JetStream, topo broker.Topology, registry *channel.Registry, name string, reg prometheus.Registerer) error {
	cfg := p.cfg
	ch, ok := registry.Get(name)
	if !ok {
		return fmt.Errorf("channel %q is not built into Herald (known: %v)", name, registry.Names())
	}
	dests := delivery.StaticDestinations{}
	for _, d := range cfg.Destinations {
		if d.Channel == name {
			dests[d.ID] = d
		}
	}
	base, err := topo.Consumer(broker.StreamDeliveries, "channel", name)
	if err != nil {
		return err
	}
	kctx, cancel := context.WithTimeout(ctx, time.Minute)
	attempts, err := broker.EnsureKeyValue(kctx, js, delivery.AttemptsBucketConfig(cfg.SubjectPrefix, topo.Replicas))
	cancel()
	if err != nil {
		return fmt.Errorf("attempts bucket: %w", err)
	}
	ccfg := delivery.ConsumerConfig(base, cfg.Retry.Attempts(), cfg.SendTimeout)
	var cons jetstream.Consumer
	err = broker.RetryUnanswered(ctx, func(ctx context.Context) (err error) {
		cons, err = js.CreateOrUpdateConsumer(ctx, broker.StreamDeliveries, ccfg)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s consumer: %w", name, err)
	}
	w := delivery.New(delivery.Config{
		Prefix:        cfg.SubjectPrefix,
		Attempts:      cfg.Retry.Attempts(),
		Backoff:       delivery.Backoff{Delays: cfg.Retry.Backoff, Max: cfg.Retry.MaxDelay},
		MaxConcurrent: cfg.MaxConcurrent,
		RetryWorkers:  cfg.RetryWorkers,

		DestinationConcurrency: cfg.DestinationConcurrency,
		SendTimeout:            cfg.SendTimeout,

		Breaker: delivery.BreakerConfig{
			MinFailures: cfg.Circuit.MinFailures,
			FailureRate: cfg.Circuit.FailureRate,
			Window:      cfg.Circuit.Window,
			Cooldown:    cfg.Circuit.Cooldown,
			MaxCooldown: cfg.Circuit.MaxCooldown,
		},
	}, delivery.Deps{
		Consumer:     cons,
		Publisher:    js,
		Channel:      p.workerChannel(name, ch),
		Destinations: p.workerDestinations(dests),
		Attempts:     delivery.NewKVAttempts(attempts),
		EventTypes:   p.eventTypes,
		Metrics:      p.workerMetrics(reg),
		Logger:       p.log,
		States:       p.stateBoard(ctx, js, topo, name),
	})
	if err := w.Start(ctx); err != nil {
		return err
	}
	p.stops = append(p.stops, w.Stop)
	return nil
}

// validateDestinations checks every operator destination against its channel, so that a bad
// URL or secret stops the process at start, named by its variable.
func validateDestinations(cfg *config.Config, registry *channel.Registry) error {
	for _, d := range cfg.Destinations {
		ch, ok := registry.Get(d.Channel)
		if !ok {
			return &config.Error{Var: cfg.VarOf(d.ID, ""), Reason: fmt.Sprintf("destination %q: channel %q is not built into Herald (known: %v)", d.ID, d.Channel, registry.Names())}
		}
		if err := ch.Validate(d); err != nil {
			return cfg.DestinationError(d, err)
		}
	}
	return nil
}

// Stop stops every part in reverse order of start: consumers drain and finish what they hold
// before the connection and the embedded server go. It is safe to call more than once.
func (p *Process) Stop() { p.stopOnce.Do(p.stop) }

func (p *Process) stop() {
	if p.http != nil {
		p.http.Shutdown()
	}
	for i := len(p.stops) - 1; i >= 0; i-- {
		p.stops[i]()
	}
	p.stops = nil
	if p.ledger != nil {
		p.ledger.Close()
	}
	if p.nc != nil {
		if err := p.nc.Drain(); err == nil {
			<-p.closed
		}
	}
	if p.embedded != nil {
		p.embedded.Shutdown()
		p.embedded.WaitForShutdown()
	}
}

// workerMetrics shares one metrics set between the workers of one process.
func (p *Process) workerMetrics(reg prometheus.Registerer) *delivery.Metrics {
	if p.metrics == nil {
		p.metrics = delivery.NewMetrics(reg)
	}
	return p.metrics
}
