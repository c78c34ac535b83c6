// Package delivery is the channel workers' consume loop. Each delivery from DELIVERIES is
// sent through its channel, and the channel's Outcome is mapped onto a JetStream verb:
// Delivered is acked; Retry is NakWithDelay with exponential backoff (or the provider's
// Retry-After); Permanent, or Retry on the last attempt, is dead-lettered to DEAD and then
// terminated. Every attempt's result is published to RESULTS for the ledger before the
// delivery is acked, so the ledger misses nothing.
//
// Only a send spends an attempt, and the worker counts attempts itself (see Attempts): a
// delivery that is not sent is held, handed back with NakWithDelay and its attempts
// untouched, whether its destination's circuit is open (see Breaker), the provider
// rate-limited it, its destination stopped answering with its share of the send slots in
// flight, or the worker could not record what it did. A breaker, a pacer or an outage never
// puts a delivery in DEAD; only the destination's own refusal or its exhausted attempts do.
package delivery

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/results"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// Destinations resolves a destination id to its configuration.
type Destinations interface {
	Destination(id string) (channel.Destination, bool)
}

// StaticDestinations is a fixed set of destinations, by id.
type StaticDestinations map[string]channel.Destination

// Destination implements Destinations.
func (s StaticDestinations) Destination(id string) (channel.Destination, bool) {
	d, ok := s[id]
	return d, ok
}

// Config configures a Worker.
type Config struct {
	// Prefix is the subject prefix. Defaults to herald.
	Prefix string
	// Attempts is the total number of attempts per delivery. Defaults to 4 (3 retries).
	Attempts int
	// Backoff schedules retries.
	Backoff Backoff
	// MaxConcurrent caps the sends in flight. Defaults to 64.
	MaxConcurrent int
	// RetryWorkers caps how many of those are retries. Defaults to MaxConcurrent/4, at least 1.
	RetryWorkers int
	// DestinationConcurrency caps the sends in flight to one destination, so that one that
	// stops answering cannot take every slot before its circuit opens. Defaults to three
	// quarters of MaxConcurrent, at least 1.
	DestinationConcurrency int
	// SendTimeout bounds one send. Defaults to 10s.
	SendTimeout time.Duration
	// Breaker configures the circuit breaker per destination (see Breaker); its zero value
	// disables it. Its ProbeTimeout defaults to SendTimeout, and its OnChange is the worker's.
	Breaker BreakerConfig
	// PublishTimeout bounds the wait for a result's or dead letter's acknowledgement.
	// Defaults to 10s.
	PublishTimeout time.Duration
	// UnknownDestinationGrace is how long after its publication a delivery to a destination
	// the worker does not know is held before it is refused as one to a destination that
	// does not exist. Defaults to UnknownDestinationGrace.
	UnknownDestinationGrace time.Duration
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "herald"
	}
	if c.Attempts <= 0 {
		c.Attempts = 4
	}
	if c.MaxConcurrent <= 0 {
		c.MaxConcurrent = 64
	}
	if c.RetryWorkers <= 0 {
		c.RetryWorkers = max(1, c.MaxConcurrent/4)
	}
	if c.DestinationConcurrency <= 0 {
		c.DestinationConcurrency = max(1, c.MaxConcurrent*3/4)
	}
	if c.SendTimeout <= 0 {
		c.SendTimeout = 10 * time.Second
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = 10 * time.Second
	}
	if c.UnknownDestinationGrace <= 0 {
		c.UnknownDestinationGrace = UnknownDestinationGrace
	}
	return c
}

// Deps are what a Worker works with.
type Deps struct {
	// Consumer is the channel's durable consumer on DELIVERIES, shared by all its workers.
	Consumer     jetstream.Consumer
	Publisher    broker.Publisher
	Channel      channel.Channel
	Destinations Destinations
	// Attempts counts the attempts of deliveries waiting for a retry (see Attempts).
	Attempts Attempts
	// EventTypes bounds the event_type label of the metrics: producers choose event types,
	// and each would be a series of its own. Nil knows the seed types and labels the rest
	// "other".
	EventTypes *obs.EventTypes
	Metrics    *Metrics
	Logger     *slog.Logger
	// States publishes the destinations' circuit and pause states for the admin status;
	// nil publishes nothing.
	States *StateBoard
}

// Worker delivers one channel's deliveries with a bounded pool of goroutines.
type Worker struct {
	cfg  Config
	deps Deps
	name string
	subj broker.Subjects
	log  *slog.Logger

	breaker *Breaker
	pacer   Pacer
	slots   chan struct{}  // every send holds one
	dests   *bulkhead      // and one of its destination's
	retries chan struct{}  // retries hold one of these as well
	waiting chan struct{}  // retries waiting for their slots
	wg      sync.WaitGroup // deliveries waiting for their turn or a slot
	pool    *broker.Pool   // runs the fresh deliveries, which hold a slot already
	consume jetstream.ConsumeContext
	// waits ends the waits for a pace turn when the worker stops: those deliveries are left
	// to come back after AckWait, while the sends in flight finish.
	waits     context.Context
	stopWaits context.CancelFunc
	results   *broker.Batcher
	// raw is set when the channel sends the event as published (see RawSender): the worker
	// then leaves Notification.Event nil instead of decoding every delivery.
	raw bool
	// paces is the channel's Pacer, if it paces its destinations.
	paces channel.Pacer
	// The channel's own series, looked up once rather than per send.
	inFlight     prometheus.Gauge
	sendDuration prometheus.Observer
}

// RawSender is implemented by channels whose Send reads Notification.Raw only, never
// Notification.Event, such as the webhook channel, which sends the event exactly as
// published. The dispatcher validated every event before fanning it out, so decoding it
// again in the worker would only cost time.
type RawSender interface {
	// SendsRaw reports whether Send reads Notification.Raw alone.
	SendsRaw() bool
}

// New builds a Worker; Start runs it.
func New(cfg Config, deps Deps) *Worker {
	if deps.Attempts == nil {
		panic("delivery.New: Deps.Attempts is required")
	}
	cfg = cfg.withDefaults()
	name := deps.Channel.Name()
	rs, ok := channel.As[RawSender](deps.Channel)
	w := &Worker{
		raw:          ok && rs.SendsRaw(),
		inFlight:     deps.Metrics.inFlight.WithLabelValues(name),
		sendDuration: deps.Metrics.duration.WithLabelValues(name),
		cfg:          cfg,
		deps:         deps,
		name:         name,
		subj:         broker.Subjects{Prefix: cfg.Prefix},
		log:          deps.Logger.With("component", "worker", "channel", name),
		slots:        make(chan struct{}, cfg.MaxConcurrent),
		dests:        newBulkhead(cfg.DestinationConcurrency, min(250*time.Millisecond, cfg.SendTimeout/4)),
		retries:      make(chan struct{}, cfg.RetryWorkers),
		waiting:      make(chan struct{}, 16*cfg.MaxConcurrent),
	}
	w.paces, _ = channel.As[channel.Pacer](deps.Channel)
	bc := cfg.Breaker
	bc.ProbeTimeout = cmp.Or(bc.ProbeTimeout, cfg.SendTimeout)
	w.breaker = &Breaker{BreakerConfig: bc, OnChange: w.circuitChanged}
	return w
}

// HoldBudget is how many times a delivery may be handed back to JetStream without spending
// an attempt (held by an open circuit or a rate limit, or back from a stopped worker) before
// JetStream's MaxDeliver backstop gives it to the janitor. Holds follow the circuit's
// cooldown, up to 5 minutes apart, so the budget lasts days of an open circuit; what it
// bounds is a delivery that kills every worker it reaches.
const HoldBudget = 2000

// ConsumerConfig adjusts a channel consumer's definition to the worker's policy: MaxDeliver
// is the attempts plus HoldBudget, a backstop behind the worker's own count of attempts
// (JetStream's count includes the holds, which spend no attempt), and AckWait is twice the
// send timeout.
func ConsumerConfig(base jetstream.ConsumerConfig, attempts int, sendTimeout time.Duration) jetstream.ConsumerConfig {
	base.MaxDeliver = attempts + HoldBudget
	base.AckWait = 2 * sendTimeout
	base.BackOff = nil
	return base
}

// Start begins consuming. The consumer prefetches about as many deliveries as the pool
// holds, so that AckWait does not run out on deliveries waiting in the client's buffer.
func (w *Worker) Start(ctx context.Context) error {
	// Sends and their settlements run on a context that nothing cancels: Stop lets the sends
	// in flight finish and settle, each bounded by SendTimeout and PublishTimeout. A
	// cancellable parent would also make every send's timeout register in, and leave, the
	// parent's set of children under its lock: 3% of the fleet's CPU in the profile.
	ctx = context.WithoutCancel(ctx)
	w.waits, w.stopWaits = context.WithCancel(ctx)
	w.results = broker.NewBatcher(w.deps.Publisher, w.subj.Results(w.name), broker.BatcherConfig{Timeout: w.cfg.PublishTimeout})
	w.pool = broker.NewPool(w.cfg.MaxConcurrent)
	cc, err := broker.ConsumeWith(w.deps.Consumer, broker.ConsumeConfig{Prefetch: w.cfg.MaxConcurrent, Logger: w.log, Metrics: w.deps.Metrics.consume}, func(msg jetstream.Msg) {
		received := time.Now()
		destID := msg.Headers().Get(broker.HeaderDestination)
		pace := w.paceOf(destID)
		at := w.pacer.Reserve(pace, received)
		md, _ := msg.Metadata() // nil if unreadable: handle terminates the delivery
		retry := md != nil && md.NumDelivered > 1
		dest := w.dests.join(destID)
		if !retry && !at.After(received) {
			select {
			case dest.ch <- struct{}{}:
				// The common case: a fresh delivery whose destination may be sent to now. The
				// consumer waits for a slot, which is the pool's back-pressure.
				w.slots <- struct{}{}
				w.pool.Go(func() { w.run(ctx, msg, md, received, pace, at, dest, true, false, 0) })
				return
			default: // its destination has its share of the slots: wait below
			}
		}
		// A retry, a delivery whose destination's pace says later, or one whose destination
		// has its share of the slots in flight: it waits without holding a send slot, so that
		// neither a failing endpoint's retries nor a busy destination's backlog starve the
		// others. At most 16 × MaxConcurrent wait at once (each a parked goroutine); past that
		// the consumer waits too.
		w.waiting <- struct{}{}
		w.wg.Add(1)
		go func() {
			defer func() { <-w.waiting; w.wg.Done() }()
			w.run(ctx, msg, md, received, pace, at, dest, false, retry, 0)
		}()
	})
	if err != nil {
		w.pool.Close()
		w.results.Stop()
		return err
	}
	w.consume = cc
	// Every channel's series exist from the start, at zero.
	w.deps.Metrics.retries.WithLabelValues(w.name)
	w.deps.Metrics.duration.WithLabelValues(w.name)
	w.deps.Metrics.inFlight.WithLabelValues(w.name)
	w.deps.Metrics.rateLimited.WithLabelValues(w.name)
	w.log.Info("worker started", "max_concurrent", w.cfg.MaxConcurrent, "retry_workers", w.cfg.RetryWorkers, "attempts", w.cfg.Attempts)
	return nil
}

// run takes one delivery from its turn in its destination's pace to its settlement. A
// delivery that holds a send slot and its destination's already (hasSlot) skips the waits. A
// provider's rate limit (a 429 that says how long to wait) sends it again once the wait is
// over, without using up an attempt: rate limits slow delivery down and lose nothing. The
// wait happens on a goroutine of its own, holding neither a send slot nor one of the pool's
// goroutines.
func (w *Worker) run(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, received time.Time, pace channel.Pace, at time.Time, dest *destSlots, hasSlot, retry bool, resends int) {
	if !hasSlot {
		// The narrowest first: a retry waiting for the retry slot holds none of its
		// destination's, which fresh deliveries to it may use meanwhile.
		if !w.waitTurn(w.waits, msg, pace, at) {
			w.dests.leave(dest)
			return // redelivered after AckWait
		}
		if retry {
			if !w.acquire(ctx, w.retries, msg) {
				w.dests.leave(dest)
				return
			}
			defer func() { <-w.retries }()
		}
		select {
		case dest.ch <- struct{}{}:
		default:
			// The destination has its share of the slots in flight: wait for one, unless it
			// stopped answering (see bulkhead.queue). Then the delivery is held, without
			// spending an attempt, until a slot is likely free.
			if !w.dests.queue(dest) {
				w.dests.leave(dest)
				w.hold(msg, resultOf(msg, w.name), holdDestinationBusy, w.cfg.SendTimeout)
				return
			}
			ok := w.acquire(w.waits, dest.ch, msg)
			w.dests.dequeue(dest)
			if !ok {
				w.dests.leave(dest)
				return
			}
		}
		if !w.acquire(ctx, w.slots, msg) {
			<-dest.ch
			w.dests.leave(dest)
			return
		}
	}
	again := w.handle(ctx, msg, md, received, pace, resends)
	dest.done()
	<-w.slots
	<-dest.ch
	if !again {
		w.dests.leave(dest)
		return
	}
	at = w.pacer.Reserve(pace, time.Now())
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.run(ctx, msg, md, received, pace, at, dest, false, retry, resends+1)
	}()
}

// waitTurn waits until at, the delivery's turn in its destination's pace, telling JetStream
// the delivery is in progress meanwhile. A pause that the provider asked for after the turn
// was booked books a new one. It returns false if ctx ends first.
func (w *Worker) waitTurn(ctx context.Context, msg jetstream.Msg, pace channel.Pace, at time.Time) bool {
	var heartbeat *time.Ticker
	for {
		now := time.Now()
		if !now.Before(at) {
			if !w.pacer.Paused(pace, now) {
				return true
			}
			at = w.pacer.Reserve(pace, now)
			continue
		}
		if heartbeat == nil {
			heartbeat = time.NewTicker(w.cfg.SendTimeout / 2) // AckWait is 2 × SendTimeout
			defer heartbeat.Stop()
		}
		turn := time.NewTimer(at.Sub(now))
		select {
		case <-turn.C:
		case <-heartbeat.C:
			turn.Stop()
			_ = msg.InProgress()
		case <-ctx.Done():
			turn.Stop()
			return false
		}
	}
}

// paceOf returns the pace of the delivery's destination: the channel's, if it paces its
// destinations, or an unpaced bucket of the destination alone, which a provider's pause
// can still hold.
func (w *Worker) paceOf(id string) channel.Pace {
	if id == "" {
		return channel.Pace{}
	}
	if p := w.paces; p != nil {
		if dest, ok := w.deps.Destinations.Destination(id); ok {
			return p.Pace(dest)
		}
	}
	return channel.Pace{Key: "destination:" + id}
}

// Stop stops taking deliveries and waits for the sends in flight to finish and be acked.
func (w *Worker) Stop() {
	broker.StopConsuming(w.consume)
	if w.stopWaits != nil {
		w.stopWaits()
	}
	// The pool first: a send in flight may hand its delivery to a waiting goroutine (after a
	// 429), which the WaitGroup then counts.
	if w.pool != nil {
		w.pool.Close()
	}
	w.wg.Wait()
	if w.results != nil {
		w.results.Stop()
	}
}

// acquire takes a slot of sem, telling JetStream the delivery is in progress while it waits so
// that AckWait does not run out and hand it to another worker meanwhile.
func (w *Worker) acquire(ctx context.Context, sem chan struct{}, msg jetstream.Msg) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	t := time.NewTicker(w.cfg.SendTimeout / 2) // AckWait is 2 × SendTimeout
	defer t.Stop()
	for {
		select {
		case sem <- struct{}{}:
			return true
		case <-t.C:
			_ = msg.InProgress()
		case <-ctx.Done():
			return false // redelivered after AckWait
		}
	}
}

// handle sends one delivery and settles it, or reports that the provider rate-limited it and
// it should be sent again in place (see run).
//
// Only a send spends an attempt. A delivery that is not sent (its circuit is open, its
// destination is unknown to this worker yet, its attempt count cannot be read) or that the
// provider refused for its rate limit is held: handed back to JetStream for later with its
// attempts untouched. Only the destination's own refusal, or its attempts running out, ends
// a delivery in DEAD.
func (w *Worker) handle(ctx context.Context, msg jetstream.Msg, md *jetstream.MsgMetadata, received time.Time, pace channel.Pace, resends int) (again bool) {
	if md == nil {
		w.log.Error("delivery without readable metadata, terminating", "subject", msg.Subject())
		_ = msg.Term()
		return false
	}
	if time.Since(received) > w.cfg.SendTimeout/2 {
		// It waited in the buffer or for a slot: give it a full AckWait for the send.
		_ = msg.InProgress()
	}

	res := resultOf(msg, w.name)
	base := attemptBase(msg) // a redriven delivery numbers its attempts after its first life's
	res.Attempt += base
	n := channel.Notification{DeliveryID: res.DeliveryID, Attempt: res.Attempt, Raw: msg.Data()}
	if n.DeliveryID == "" || res.Destination == "" {
		w.settle(ctx, msg, res, channel.Fail(0, "delivery message lacks its Herald headers"))
		return false
	}
	if reason := w.checkDelivery(msg, &res); reason != "" {
		w.log.Warn("malformed delivery refused", logAttrs(res, "reason", reason)...)
		w.settle(ctx, msg, res, channel.Fail(0, reason))
		return false
	}
	dest, ok := w.deps.Destinations.Destination(res.Destination)
	if !ok {
		if reason := w.unknownDestination(md, res); reason != "" {
			w.log.Warn("delivery to an unknown destination refused", logAttrs(res, "reason", reason)...)
			w.settle(ctx, msg, res, channel.Fail(0, reason))
			return false
		}
		// Maybe a rolling deploy: this worker's configuration does not know it yet.
		w.hold(msg, res, holdUnknownDestination, w.cfg.Backoff.Delay(1, 0))
		return false
	}
	if ok, wait := w.breaker.Allow(dest.ID, time.Now()); !ok {
		w.hold(msg, res, holdCircuitOpen, wait)
		return false
	}
	if md.NumDelivered > 1 {
		actx, cancel := context.WithTimeout(ctx, w.cfg.PublishTimeout)
		made, err := w.deps.Attempts.Made(actx, n.DeliveryID)
		cancel()
		if err != nil {
			w.log.Warn("attempt count unavailable, delivery held", logAttrs(res, "err", err)...)
			w.hold(msg, res, holdAttemptsUnavailable, time.Second)
			return false
		}
		res.Attempt = max(made, base) + 1
		n.Attempt = res.Attempt
	}

	var out channel.Outcome
	switch {
	case res.Attempt-base > w.cfg.Attempts:
		// Never sent again once its attempts are spent, whatever brought it back.
		out = channel.RetryLater(0, 0, fmt.Sprintf("no attempt left: delivered again after its last attempt (%d of %d)", res.Attempt-base-1, w.cfg.Attempts))
	default:
		n.Destination = dest
		if !w.raw {
			var err error
			if n.Event, err = sdk.Decode(n.Raw); err != nil {
				out = channel.Fail(0, err.Error())
				break
			}
			if reason := bodyMismatch(n.Event.ID, n.Event.TenantID, res); reason != "" {
				out = channel.Fail(0, reason)
				break
			}
		}
		start := time.Now()
		out = w.send(ctx, n)
		res.DurationMS = time.Since(start).Milliseconds()
		now := time.Now()
		if out.Pause > 0 {
			w.pacer.Pause(pace, now.Add(out.Pause), now)
			w.deps.States.Paused(res.Destination, now.Add(out.Pause))
		}
		if rateLimited(out) {
			// The provider's pace, not a failure: the circuit hears nothing of it.
			wait := max(out.Pause, out.RetryAfter)
			w.deps.Metrics.rateLimited.WithLabelValues(w.name).Inc()
			if wait > 0 {
				w.pacer.Pause(pace, now.Add(wait), now)
				w.deps.States.Paused(res.Destination, now.Add(wait))
			}
			if wait > 0 && wait <= maxRateLimitHold && resends < maxRateLimitResends && ctx.Err() == nil {
				w.log.Info("rate limited by the provider, sending again when the limit resets", logAttrs(res, "wait", wait.String(), "reason", out.Reason)...)
				return true
			}
			if wait <= 0 {
				wait = w.cfg.Backoff.Delay(res.Attempt-base, 0)
			}
			w.hold(msg, res, holdRateLimited, wait)
			return false
		}
		if ctx.Err() == nil {
			w.breaker.Record(dest.ID, out.Kind != channel.Retry, time.Now())
		}
	}
	res.HTTPStatus = out.StatusCode
	res.At = time.Now().UTC()
	w.settle(ctx, msg, res, out)
	return false
}

// resultOf starts the result of a delivery's attempt from its headers, as on attempt 1.
func resultOf(msg jetstream.Msg, channelName string) store.Result {
	h := msg.Headers()
	return store.Result{
		DeliveryID:  h.Get(broker.HeaderDeliveryID),
		EventID:     h.Get(broker.HeaderEventID),
		TenantID:    h.Get(broker.HeaderTenant),
		EventType:   h.Get(broker.HeaderEventType),
		Channel:     channelName,
		Destination: h.Get(broker.HeaderDestination),
		Attempt:     1,
	}
}

// Why a delivery was held, the bounded reason label of notifications_held_total. Every
// NakWithDelay of the worker is a hold (here) or a scheduled retry (settle, after Backoff).
const (
	holdCircuitOpen         = "circuit_open"
	holdRateLimited         = "rate_limited"
	holdUnknownDestination  = "unknown_destination"
	holdAttemptsUnavailable = "attempts_unavailable"
	// holdPublishFailed: RESULTS or DEAD did not take the attempt's result or dead letter.
	holdPublishFailed = "publish_failed"
	// holdDestinationBusy: the destination had its share of the send slots in flight and as
	// many deliveries waiting for them.
	holdDestinationBusy = "destination_busy"
)

// hold hands a delivery back to JetStream for about wait without spending an attempt: it
// publishes no result and records no attempt, so when it comes back it is on the same
// attempt as now. The wait gets up to 20% of jitter, so that deliveries held together do not
// all come back together.
func (w *Worker) hold(msg jetstream.Msg, res store.Result, why string, wait time.Duration) {
	wait = max(wait, 100*time.Millisecond)
	wait += time.Duration(rand.Int64N(int64(wait)/5 + 1))
	if err := msg.NakWithDelay(wait); err != nil {
		w.log.Warn("hold delivery", logAttrs(res, "reason", why, "err", err)...)
	}
	w.deps.Metrics.held.WithLabelValues(w.name, why).Inc()
	if w.log.Enabled(context.Background(), slog.LevelDebug) {
		w.log.Debug("delivery held, no attempt spent", logAttrs(res, "reason", why, "destination", res.Destination, "retry_in", wait.String())...)
	}
}

// circuitChanged reports a destination's circuit in the logs and metrics.
func (w *Worker) circuitChanged(t Transition) {
	w.deps.States.Circuit(t.Destination, t.To)
	state := w.deps.Metrics.circuitState
	switch t.To {
	case CircuitOpen:
		state.WithLabelValues(w.name, t.Destination).Set(float64(CircuitOpen))
		w.deps.Metrics.circuitOpened.WithLabelValues(w.name).Inc()
		if t.From == CircuitHalfOpen {
			w.log.Warn("circuit reopened: the probe failed, holding deliveries to this destination", "destination", t.Destination, "cooldown", t.Cooldown.String())
		} else {
			w.log.Warn("circuit opened: holding deliveries to this destination without spending their attempts", "destination", t.Destination,
				"failures", t.Failures, "sends", t.Sends, "window", w.breaker.window().String(), "cooldown", t.Cooldown.String())
		}
	case CircuitHalfOpen:
		state.WithLabelValues(w.name, t.Destination).Set(float64(CircuitHalfOpen))
		w.log.Info("circuit half-open: sending one probe", "destination", t.Destination)
	default:
		state.DeleteLabelValues(w.name, t.Destination)
		w.log.Info("circuit closed: the destination answered the probe", "destination", t.Destination)
	}
}

const (
	// maxRateLimitResends is how many times in a row one delivery is sent again in place
	// after a provider's rate limit before a 429 counts as a failed attempt.
	maxRateLimitResends = 5
	// maxRateLimitHold is the longest rate-limit wait spent in place; a provider asking for
	// longer gets a scheduled retry instead.
	maxRateLimitHold = time.Minute
)

// rateLimited reports whether the provider refused the send for its rate limit alone.
func rateLimited(o channel.Outcome) bool {
	return o.Kind == channel.Retry && o.StatusCode == http.StatusTooManyRequests
}

func (w *Worker) send(ctx context.Context, n channel.Notification) channel.Outcome {
	w.inFlight.Inc()
	defer w.inFlight.Dec()
	sctx, cancel := context.WithTimeout(ctx, w.cfg.SendTimeout)
	defer cancel()
	start := time.Now()
	out := w.deps.Channel.Send(sctx, n)
	w.sendDuration.Observe(time.Since(start).Seconds())
	return out
}

// settle maps the outcome onto JetStream: result first (so the ledger sees every attempt),
// then Ack, NakWithDelay, or dead letter and Term.
func (w *Worker) settle(ctx context.Context, msg jetstream.Msg, res store.Result, out channel.Outcome) {
	var verb func() error
	var delay time.Duration
	budget := res.Attempt - attemptBase(msg) // attempts of this life, see HeaderAttemptBase
	switch {
	case out.Kind == channel.Delivered:
		res.Status = store.StatusDelivered
		verb = msg.Ack
	case out.Kind == channel.Retry && budget < w.cfg.Attempts:
		res.Status = store.StatusRetrying
		delay = w.cfg.Backoff.Delay(budget, out.RetryAfter)
		verb = func() error { return msg.NakWithDelay(delay) }
	default:
		res.Status = store.StatusFailed
		if out.Kind == channel.Retry {
			res.Status = store.StatusDead
		}
		reason := out.Reason
		if res.Status == store.StatusDead {
			reason = fmt.Sprintf("gave up after %d attempts: %s", budget, out.Reason)
		}
		dead := broker.DeadLetter(w.subj.Dead(w.name, tenantToken(res.TenantID)), broker.OriginalOf(msg), string(res.Status), reason, res.Attempt)
		if err := w.publish(ctx, dead); err != nil {
			w.log.Error("dead-letter failed, the delivery is held and will be dead-lettered again", logAttrs(res, "err", err)...)
			w.hold(msg, res, holdPublishFailed, w.cfg.Backoff.Delay(1, 0))
			return
		}
		verb = func() error { return msg.TermWithReason(string(res.Status)) }
	}
	res.Error = out.Reason

	if err := w.publishResult(ctx, res); err != nil {
		// Without its result the ledger would miss this attempt: let the delivery come back.
		w.log.Error("publish result failed, the delivery is held and will be sent again", logAttrs(res, "err", err)...)
		w.hold(msg, res, holdPublishFailed, time.Second)
		return
	}
	switch {
	case res.Status == store.StatusRetrying:
		// Before the nak: the retry must find its count. A count that cannot be written
		// costs the delivery an extra attempt, never one of its own.
		actx, cancel := context.WithTimeout(ctx, w.cfg.PublishTimeout)
		err := w.deps.Attempts.Record(actx, res.DeliveryID, res.Attempt)
		cancel()
		if err != nil {
			w.log.Warn("record attempt count, the retry will repeat this attempt's number", logAttrs(res, "err", err)...)
		}
	case res.Attempt > 1:
		// Settled for good: a redrive starts afresh. The bucket's TTL covers a failure here.
		actx, cancel := context.WithTimeout(ctx, w.cfg.PublishTimeout)
		err := w.deps.Attempts.Forget(actx, res.DeliveryID)
		cancel()
		if err != nil {
			w.log.Debug("forget attempt count", logAttrs(res, "err", err)...)
		}
	}
	if err := verb(); err != nil {
		w.log.Warn("settle delivery", logAttrs(res, "status", res.Status, "err", err)...)
	}
	w.deps.Metrics.delivered.WithLabelValues(w.name, w.deps.EventTypes.Label(res.EventType), string(res.Status)).Inc()
	switch res.Status {
	case store.StatusDelivered:
		if w.log.Enabled(ctx, slog.LevelDebug) {
			w.log.Debug("delivered", logAttrs(res, "http_status", out.StatusCode)...)
		}
	case store.StatusRetrying:
		w.deps.Metrics.retries.WithLabelValues(w.name).Inc()
		w.log.Info("delivery failed, retry scheduled", logAttrs(res, "reason", out.Reason, "http_status", out.StatusCode, "retry_in", delay.String())...)
	default:
		w.log.Warn("delivery dead-lettered", logAttrs(res, "status", res.Status, "reason", out.Reason, "http_status", out.StatusCode)...)
	}
}

// publishResult publishes an attempt's result and waits until RESULTS has stored it. The
// results of concurrent sends share messages (see broker.Batcher), which saves JetStream a
// stored and consumed message per delivery under load; the recorder is idempotent on
// delivery and attempt, so the messages need no Nats-Msg-Id. The batcher bounds the wait by
// PublishTimeout itself, so no context timer per result is needed.
func (w *Worker) publishResult(ctx context.Context, res store.Result) error {
	b, err := results.Encode(res)
	if err != nil {
		return fmt.Errorf("encode result: %w", err)
	}
	return w.results.Add(ctx, b)
}

// resultMsg is the RESULTS message of one attempt, deduplicated on delivery and attempt.
func resultMsg(subj broker.Subjects, res store.Result) (*nats.Msg, error) {
	body, err := json.Marshal([]store.Result{res})
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	m := nats.NewMsg(subj.Results(res.Channel))
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, res.DeliveryID+":"+strconv.Itoa(res.Attempt))
	return m, nil
}

func (w *Worker) publish(ctx context.Context, m *nats.Msg) error {
	f, err := w.deps.Publisher.PublishMsgAsync(m, jetstream.WithStallWait(w.cfg.PublishTimeout))
	if err != nil {
		return fmt.Errorf("publish to %s: %w", m.Subject, err)
	}
	return broker.WaitAcks(ctx, w.cfg.PublishTimeout, f)
}

// logAttrs returns the attributes that identify a delivery in a log line, followed by extra.
// A line's attributes, not a derived logger: Logger.With formats its attributes at once, even
// for the deliveries that log nothing, and cost more than the rest of the worker's own work.
func logAttrs(res store.Result, extra ...any) []any {
	return append([]any{"delivery_id", res.DeliveryID, "event_type", res.EventType, "tenant_id", res.TenantID, "attempt", res.Attempt}, extra...)
}

func tenantToken(t string) string {
	if t == "" {
		return "_"
	}
	return t
}
