// Package dispatch turns events into deliveries: it validates each event from the EVENTS
// stream, routes it to the operator's destinations, and publishes one message per
// destination to DELIVERIES, acking the event only once every one is stored. Malformed
// events are dead-lettered with their reason; events already dispatched within the
// idempotency window are acked and dropped.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/recorder"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// Config configures a Dispatcher.
type Config struct {
	// Prefix is the subject prefix. Defaults to herald.
	Prefix string
	// Concurrency is how many events are fanned out at once. Defaults to 64.
	Concurrency int
	// MaxEventBytes is the largest event accepted. Defaults to sdk.DefaultMaxEventBytes.
	MaxEventBytes int
	// PublishTimeout bounds each wait for the server's acknowledgements. Defaults to 5s,
	// a third of the dispatcher consumer's AckWait.
	PublishTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "herald"
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 64
	}
	if c.MaxEventBytes <= 0 {
		c.MaxEventBytes = sdk.DefaultMaxEventBytes
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 5 * time.Second
	}
	return c
}

// Deps are what a Dispatcher works with.
type Deps struct {
	// Consumer is the durable "dispatcher" consumer of EVENTS.
	Consumer    jetstream.Consumer
	Publisher   broker.Publisher
	Idempotency *Idempotency
	Router      *Router
	Metrics     *Metrics
	Logger      *slog.Logger
}

// Dispatcher consumes EVENTS and fans each event out to DELIVERIES.
type Dispatcher struct {
	cfg  Config
	deps Deps
	subj broker.Subjects
	log  *slog.Logger

	pool    *broker.Pool    // Concurrency goroutines, kept for reuse
	pending *broker.Batcher // the pending records of many events share RESULTS messages
	consume jetstream.ConsumeContext
}

// New builds a Dispatcher; Start runs it.
func New(cfg Config, deps Deps) *Dispatcher {
	cfg = cfg.withDefaults()
	return &Dispatcher{
		cfg:  cfg,
		deps: deps,
		subj: broker.Subjects{Prefix: cfg.Prefix},
		log:  deps.Logger.With("component", "dispatcher"),
	}
}

// Start begins consuming. Events are handled by a pool of Concurrency goroutines; the
// consumer prefetches about as many, so that AckWait does not run out on events waiting in
// the client's buffer.
func (d *Dispatcher) Start(ctx context.Context) error {
	// Events in hand run on a context that nothing cancels: Stop lets them finish, each
	// publish bounded by its own timeout. A cancellable parent would also make every
	// timeout (the idempotency claim's, the fan-out's) register in, and leave, the parent's
	// set of children under its lock, a cost per event that showed in the profile.
	ctx = context.WithoutCancel(ctx)
	d.pending = broker.NewBatcher(d.deps.Publisher, d.subj.Results("dispatch"), broker.BatcherConfig{Timeout: d.cfg.PublishTimeout})
	d.pool = broker.NewPool(d.cfg.Concurrency)
	cc, err := broker.Consume(d.deps.Consumer, d.cfg.Concurrency, d.log, func(msg jetstream.Msg) {
		d.pool.Go(func() { d.handle(ctx, msg) })
	})
	if err != nil {
		d.pool.Close()
		d.pending.Stop()
		return err
	}
	d.consume = cc
	d.log.Info("dispatcher started", "concurrency", d.cfg.Concurrency)
	return nil
}

// Stop stops taking events and waits for those in hand to finish.
func (d *Dispatcher) Stop() {
	broker.StopConsuming(d.consume)
	if d.pool != nil {
		d.pool.Close()
	}
	if d.pending != nil {
		d.pending.Stop()
	}
}

func (d *Dispatcher) handle(ctx context.Context, msg jetstream.Msg) {
	start := time.Now()
	defer func() { d.deps.Metrics.duration.Observe(time.Since(start).Seconds()) }()

	ev, reject := d.validate(msg)
	if reject != nil {
		d.reject(ctx, msg, reject)
		return
	}
	// Attributes only, not a derived logger: Logger.With formats its attributes at once,
	// which cost more per event than the rest of the dispatcher's own work.
	attrs := []any{"event_id", ev.ID, "event_type", ev.Type, "tenant_id", ev.Tenant()}

	dests := d.deps.Router.Route(ev.Type)
	if len(dests) == 0 {
		d.log.Debug("no destination routed", attrs...)
		d.deps.Metrics.events.WithLabelValues("unrouted").Inc()
		_ = msg.Ack()
		return
	}
	md, err := msg.Metadata()
	if err != nil {
		d.retryLater(msg, fmt.Errorf("event metadata: %w", err), attrs...)
		return
	}
	claimed, err := d.deps.Idempotency.Claim(ctx, ev.ID, md.Sequence.Stream)
	if err != nil {
		d.retryLater(msg, err, attrs...)
		return
	}
	if !claimed {
		d.log.Debug("event already dispatched, dropping duplicate", attrs...)
		d.deps.Metrics.events.WithLabelValues("duplicate").Inc()
		_ = msg.Ack()
		return
	}
	if err := d.fanOut(ctx, msg, ev, dests); err != nil {
		d.retryLater(msg, err, attrs...)
		return
	}
	// A lost ack redelivers the event after AckWait (15s), which the idempotency record lets
	// through as this message's own: it fans out again well inside DELIVERIES' duplicate
	// window (2m by default), which drops the copies. A plain Ack is enough, no DoubleAck
	// round trip.
	if err := msg.Ack(); err != nil {
		d.log.Warn("ack event", append(attrs, "err", err)...)
	}
	d.deps.Metrics.events.WithLabelValues("dispatched").Inc()
	d.deps.Metrics.fanout.Add(float64(len(dests)))
	if d.log.Enabled(ctx, slog.LevelDebug) {
		d.log.Debug("event dispatched", append(attrs, "deliveries", len(dests))...)
	}
}

// rejection is why an event is refused: Field is the metric's bounded reason.
type rejection struct {
	Field  string
	Reason string
}

func (d *Dispatcher) validate(msg jetstream.Msg) (*sdk.Event, *rejection) {
	data := msg.Data()
	if len(data) > d.cfg.MaxEventBytes {
		return nil, &rejection{"size", fmt.Sprintf("event is %d bytes, over the limit of %d", len(data), d.cfg.MaxEventBytes)}
	}
	ev, err := sdk.Decode(data)
	if err == nil {
		// A seed type's payload must fit it, or its channels cannot render it.
		err = sdk.ValidateData(ev.Type, ev.Data)
	}
	if err != nil {
		var ve *sdk.ValidationError
		if errors.As(err, &ve) {
			return nil, &rejection{ve.Field, ve.Error()}
		}
		return nil, &rejection{"json", err.Error()}
	}
	if want := ev.Subject(d.cfg.Prefix); msg.Subject() != want {
		return nil, &rejection{"subject", fmt.Sprintf("invalid event: published on %q, but its tenantid and type say %q", msg.Subject(), want)}
	}
	return ev, nil
}

// reject dead-letters a malformed event with its reason and terminates it. If DEAD cannot
// take it, the event is retried later rather than lost.
func (d *Dispatcher) reject(ctx context.Context, msg jetstream.Msg, r *rejection) {
	tenant := d.subj.TenantOfEvent(msg.Subject())
	if !sdk.ValidTenant(tenant) {
		tenant = "_"
	}
	dead := broker.DeadLetter(d.subj.Dead("invalid", tenant), broker.OriginalOf(msg), "invalid", r.Reason, 0)
	pctx, cancel := context.WithTimeout(ctx, d.cfg.PublishTimeout)
	defer cancel()
	if _, err := d.deps.Publisher.PublishMsg(pctx, dead); err != nil {
		d.retryLater(msg, fmt.Errorf("dead-letter invalid event: %w", err))
		return
	}
	d.log.Warn("invalid event rejected", "reason", r.Reason, "field", r.Field,
		"subject", msg.Subject(), "dead_subject", dead.Subject, "bytes", len(msg.Data()))
	d.deps.Metrics.events.WithLabelValues("invalid").Inc()
	d.deps.Metrics.invalid.WithLabelValues(r.Field).Inc()
	_ = msg.TermWithReason(r.Field)
}

// fanOut publishes one delivery per destination and one pending record per delivery for the
// ledger, then waits for every acknowledgement. The deliveries go out asynchronously; the
// pending records join those of other events in shared RESULTS messages (see
// broker.Batcher), which saves JetStream a stored and consumed message per event.
func (d *Dispatcher) fanOut(ctx context.Context, msg jetstream.Msg, ev *sdk.Event, dests []channel.Destination) error {
	futures := make([]jetstream.PubAckFuture, 0, len(dests))
	pending := make([][]byte, 0, len(dests))
	now := time.Now().UTC()
	tenant := ev.Tenant()
	for _, dest := range dests {
		id := broker.DeliveryID(ev.ID, dest.ID)
		// The header names are canonical already: assigning them skips Header.Set's
		// canonicalisation, one of the fan-out's costs per delivery.
		m := &nats.Msg{Subject: d.subj.Deliver(dest.Channel, tenant), Data: msg.Data(), Header: nats.Header{
			jetstream.MsgIDHeader:    {id},
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
		b, err := recorder.EncodeResult(store.Result{
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

// retryLater hands the event back for redelivery after a delay that grows with each attempt:
// a JetStream or key-value outage delays events, it never drops them.
func (d *Dispatcher) retryLater(msg jetstream.Msg, err error, attrs ...any) {
	n := 1
	if md, mdErr := msg.Metadata(); mdErr == nil {
		n = int(md.NumDelivered)
	}
	delay := min(time.Second<<min(n-1, 5), 30*time.Second)
	d.log.Warn("event not dispatched, will retry", append(attrs, "err", err, "attempt", n, "retry_in", delay.String())...)
	_ = msg.NakWithDelay(delay)
}
