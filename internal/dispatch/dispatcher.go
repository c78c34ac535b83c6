// Package dispatch turns events into deliveries: it validates each event from the EVENTS
// stream, routes it to the operator's destinations, and publishes one message per
// destination to DELIVERIES, acking the event only once every one is stored. Malformed
// events are dead-lettered with their reason; events already dispatched within the
// idempotency window are acked and dropped.
//
// The envelope is checked strictly: size, UTF-8, nesting depth (MaxJSONDepth), JSON, the
// CloudEvents attributes, the subject. The data of a seed type is not a reason to refuse
// an event: it is read with sdk.DecodeDataLenient, and a field that cannot be interpreted,
// or that breaks its type's rules, is logged and counted
// (notifications_data_mismatch_total) while the event is dispatched as published.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/obs"
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
	// Tenants routes events to their tenant's own destinations; nil for none.
	Tenants TenantRoutes
	Metrics *Metrics
	Logger  *slog.Logger
	// EventTypes bounds the event_type label of the metrics. Nil knows the seed types and
	// herald.test only.
	EventTypes *obs.EventTypes
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
	cc, err := broker.ConsumeWith(d.deps.Consumer, broker.ConsumeConfig{Prefetch: d.cfg.Concurrency, Logger: d.log, Metrics: d.deps.Metrics.consume}, func(msg jetstream.Msg) {
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

	ev, bad, reject := d.validate(msg)
	if reject != nil {
		d.reject(ctx, msg, reject)
		return
	}
	// Attributes only, not a derived logger: Logger.With formats its attributes at once,
	// which cost more per event than the rest of the dispatcher's own work.
	attrs := []any{"event_id", ev.ID, "event_type", ev.Type, "tenant_id", ev.Tenant()}

	dests := d.route(ev)
	if len(dests) == 0 {
		d.log.Debug("no destination routed", attrs...)
		d.deps.Metrics.events.WithLabelValues("unrouted").Inc()
		d.reportMismatches(ev, bad)
		_ = msg.Ack()
		return
	}
	md, err := msg.Metadata()
	if err != nil {
		d.retryLater(msg, fmt.Errorf("event metadata: %w", err), attrs...)
		return
	}
	key := eventKey(ev.Tenant(), ev.Source, ev.ID)
	claimed, err := d.deps.Idempotency.Claim(ctx, key, md.Sequence.Stream)
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
	if err := d.fanOut(ctx, msg, ev, key, dests); err != nil {
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
	d.reportMismatches(ev, bad)
	if d.log.Enabled(ctx, slog.LevelDebug) {
		d.log.Debug("event dispatched", append(attrs, "deliveries", len(dests))...)
	}
}

// rejection is why an event is refused: Field is the metric's bounded reason.
type rejection struct {
	Field  string
	Reason string
}

// validate checks the event strictly where a malformed one would harm the fleet or its
// receivers (size, UTF-8, depth, JSON, attributes, subject), refusing it with a rejection,
// and leniently where it would only read less well (the data of a seed type), returning
// what of the data does not fit its type.
func (d *Dispatcher) validate(msg jetstream.Msg) (*sdk.Event, []sdk.DataMismatch, *rejection) {
	data := msg.Data()
	if len(data) > d.cfg.MaxEventBytes {
		return nil, nil, &rejection{"size", fmt.Sprintf("event is %d bytes, over the limit of %d", len(data), d.cfg.MaxEventBytes)}
	}
	// The CloudEvents JSON format requires UTF-8. The decoders would replace invalid bytes
	// in strings without a word, while webhooks carry the body as published.
	if !utf8.Valid(data) {
		return nil, nil, &rejection{"utf8", "invalid event: it is not valid UTF-8, which the CloudEvents JSON format requires"}
	}
	// Before any decoding, which recurses once per level.
	if !depthWithin(data, MaxJSONDepth) {
		return nil, nil, &rejection{"depth", fmt.Sprintf("invalid event: its JSON nests deeper than %d levels", MaxJSONDepth)}
	}
	ev, err := sdk.Decode(data)
	if err != nil {
		var ve *sdk.ValidationError
		if errors.As(err, &ve) {
			return nil, nil, &rejection{ve.Field, ve.Error()}
		}
		return nil, nil, &rejection{"json", err.Error()}
	}
	if want := ev.Subject(d.cfg.Prefix); msg.Subject() != want {
		return nil, nil, &rejection{"subject", fmt.Sprintf("invalid event: published on %q, but its tenantid and type say %q", msg.Subject(), want)}
	}
	return ev, dataMismatches(ev), nil
}

// dataMismatches lists the fields of a seed type's data that do not fit the type: those
// sdk.DecodeDataLenient cannot interpret, and the first that breaks the payload's own rules
// (a required field missing, a negative amount). Neither stops the event: a webhook
// receives it as published, and the renderer falls back to the generic layout for a field
// it cannot interpret. Custom types have no rules to break.
func dataMismatches(ev *sdk.Event) []sdk.DataMismatch {
	p, bad, err := sdk.DecodeDataLenient(ev.Type, ev.Data)
	if err != nil || len(bad) == 1 && bad[0].Field == "data" {
		return bad
	}
	if err := p.Validate(); err != nil {
		var ve *sdk.ValidationError // declared here: errors.As moves it to the heap
		if errors.As(err, &ve) {
			field := strings.TrimPrefix(ve.Field, "data.")
			if !slices.ContainsFunc(bad, func(m sdk.DataMismatch) bool { return m.Field == field }) {
				bad = append(bad, sdk.DataMismatch{Field: field, Reason: ve.Reason})
			}
		}
	}
	return bad
}

// reportMismatches logs and counts the fields of a dispatched event's data that do not fit
// its type, so that the producer can be told; the field is a payload's JSON name, a
// bounded label.
func (d *Dispatcher) reportMismatches(ev *sdk.Event, bad []sdk.DataMismatch) {
	for _, m := range bad {
		d.log.Warn("event data does not fit its type", "event_id", ev.ID, "event_type", ev.Type,
			"tenant_id", ev.Tenant(), "field", m.Field, "reason", m.Reason)
		d.deps.Metrics.mismatch.WithLabelValues(d.deps.EventTypes.Label(ev.Type), m.Field).Inc()
	}
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

// fanOut publishes one delivery per destination and its pending record for the ledger, and
// waits for every acknowledgement (see publishDeliveries, which replays share).
//
// A delivery's id (Herald-Delivery-Id, the webhook-id, Resend's Idempotency-Key) is
// <event id>:<destination id>, a public contract. Its Nats-Msg-Id adds the event's key
// (see eventKey), <event id>:<destination id>:<key>, so that DELIVERIES' duplicate window
// drops the copies of one event's fan-out and never another tenant's event, or another
// source's, that uses the same id. Such events share delivery ids, and so do their ledger
// rows, which are keyed by delivery id: the second upserts the first's row of
// notification_deliveries (tenant_id, event_type and created_at stay the first's; status and
// attempts follow whichever attempt is latest) and its attempts are kept only for attempt
// numbers the first has not recorded. Receivers that deduplicate on webhook-id, and Resend
// on its Idempotency-Key, may drop the second within their own windows.
func (d *Dispatcher) fanOut(ctx context.Context, msg jetstream.Msg, ev *sdk.Event, key string, dests []channel.Destination) error {
	return d.publishDeliveries(ctx, msg.Data(), ev, dests, func(dest channel.Destination) (string, string) {
		id := broker.DeliveryID(ev.ID, dest.ID)
		return id, id + ":" + key
	})
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
