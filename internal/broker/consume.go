package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// The pull settings of every consume loop.
//
// A consume loop keeps pull requests outstanding and counts the messages it has asked for
// and not yet handled; it pulls again only when that count falls below half the prefetch.
// The count can drift above what the server still owes. nats.go (v1.55.0) checks for a
// re-pull after each message but skips the check while a pull request is being sent: when
// the goroutine sending one is descheduled just after sending it, which happens under load
// on two cores, the handler can work through every message owed meanwhile and the count
// ends below the threshold with no request left on the server. A server whose wait queue
// is full also drops a request without a word to a client that asked for heartbeats. The
// server then owes nothing and sends nothing, not even heartbeats, and the loop waits for
// its missed-heartbeat check (twice the heartbeat) to pull again. With JetStream's defaults
// (30 s expiry, 15 s heartbeat) that is a silent 30 s stall with messages waiting in the
// stream. Short heartbeats bound it to about a second, and ConsumeWith logs and counts
// every one.
const (
	// ConsumeHeartbeat is how often the server tells a waiting pull request it is alive. A
	// loop that hears nothing, no message and no heartbeat, for twice as long pulls again.
	ConsumeHeartbeat = 500 * time.Millisecond
	// ConsumePullExpiry is how long a pull request waits on the server. An idle loop renews
	// it this often; a count that drifted while a request was still waiting heals when the
	// request expires, as the server reports what it still owed.
	ConsumePullExpiry = 5 * time.Second
)

// ConsumeMetrics counts the stalls of consume loops, by consumer.
type ConsumeMetrics struct {
	stalls *prometheus.CounterVec
}

// NewConsumeMetrics registers the consume loops' metrics on reg. Every component of a
// process may call it with the same registerer: they then share one series per consumer.
func NewConsumeMetrics(reg prometheus.Registerer) *ConsumeMetrics {
	stalls := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "notifications_consume_stalls_total",
		Help: "Times a consume loop heard nothing from JetStream, no message and no heartbeat, for twice the heartbeat interval, and pulled again. Any increase means deliveries were held up for about a second.",
	}, []string{"consumer"})
	if err := reg.Register(stalls); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(fmt.Sprintf("register consume metrics: %v", err))
		}
		existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			panic(fmt.Sprintf("register consume metrics: %v", err))
		}
		stalls = existing
	}
	return &ConsumeMetrics{stalls: stalls}
}

// ConsumeConfig configures a consume loop started by ConsumeWith.
type ConsumeConfig struct {
	// Prefetch is the most messages pulled ahead of the handler. Defaults to 64.
	Prefetch int
	// Logger receives the loop's errors, at Warn. Defaults to slog.Default().
	Logger *slog.Logger
	// Metrics counts the loop's stalls. Nil counts nothing; stalls are logged all the same.
	Metrics *ConsumeMetrics
}

// ConsumeWith starts a consumer's message loop with Herald's pull settings (see
// ConsumeHeartbeat): at most cfg.Prefetch messages pulled ahead, and every error of the
// loop logged at Warn with the consumer's name, a stall counted as well. The handler runs
// on the loop's one delivery goroutine, serially; it may block for back-pressure, as the
// missed-heartbeat check pauses while it runs.
func ConsumeWith(c jetstream.Consumer, cfg ConsumeConfig, handler jetstream.MessageHandler) (jetstream.ConsumeContext, error) {
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 64
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	name := c.CachedInfo().Name
	var stalls prometheus.Counter
	if cfg.Metrics != nil {
		stalls = cfg.Metrics.stalls.WithLabelValues(name) // the series exists from the start, at zero
	}
	cc, err := c.Consume(handler,
		jetstream.PullMaxMessages(cfg.Prefetch),
		jetstream.PullExpiry(ConsumePullExpiry),
		jetstream.PullHeartbeat(ConsumeHeartbeat),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			if errors.Is(err, jetstream.ErrNoHeartbeat) {
				if stalls != nil {
					stalls.Inc()
				}
				log.Warn("consume stalled: nothing from JetStream, pulling again", "consumer", name, "silent_for", (2 * ConsumeHeartbeat).String())
				return
			}
			log.Warn("consume error", "consumer", name, "err", err)
		}))
	if err != nil {
		return nil, fmt.Errorf("consume %s: %w", name, err)
	}
	return cc, nil
}

// Consume starts a consumer's message loop as ConsumeWith does, with no stall counter: its
// stalls are logged, not counted.
func Consume(c jetstream.Consumer, prefetch int, log *slog.Logger, handler jetstream.MessageHandler) (jetstream.ConsumeContext, error) {
	return ConsumeWith(c, ConsumeConfig{Prefetch: prefetch, Logger: log}, handler)
}

// StopConsuming drains a consume loop started by Consume (no more pulls; messages already
// pulled still reach the handler) and waits until it has closed. A nil cc is a no-op.
func StopConsuming(cc jetstream.ConsumeContext) {
	if cc == nil {
		return
	}
	cc.Drain()
	<-cc.Closed()
}
