// Package recorder writes attempt results from the RESULTS stream into the ledger in batches.
// A result is acked only once its batch is committed; when the database is slow or down the
// results wait in RESULTS and are written when it returns, so the ledger lags but misses
// nothing. Writes are idempotent, so a redelivered result changes nothing.
package recorder

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/results"
	"github.com/heraldhq/herald/internal/store"
)

// Ledger is the part of store.Store the recorder writes to.
type Ledger interface {
	Record(ctx context.Context, results []store.Result) error
}

// Config configures a Recorder.
type Config struct {
	// Batch is the most result messages written in one transaction. Defaults to 500.
	Batch int
	// Flush is the longest a result waits for its batch to fill. Defaults to 50ms.
	Flush time.Duration
	// WriteTimeout bounds one batch write. Defaults to 10s, below the recorder consumer's
	// AckWait (15s), so a slow write fails and is retried rather than racing a redelivery.
	WriteTimeout time.Duration
	// MaxRetryDelay caps the wait before results of a failed batch come back. Defaults to 10s.
	MaxRetryDelay time.Duration
}

func (c Config) withDefaults() Config {
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Flush <= 0 {
		c.Flush = 50 * time.Millisecond
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.MaxRetryDelay <= 0 {
		c.MaxRetryDelay = 10 * time.Second
	}
	return c
}

// Recorder consumes RESULTS into a Ledger.
type Recorder struct {
	cfg      Config
	consumer jetstream.Consumer
	ledger   Ledger
	log      *slog.Logger
	metrics  *metrics

	msgs     chan jetstream.Msg
	consume  jetstream.ConsumeContext
	done     sync.WaitGroup
	stopOnce sync.Once
}

type metrics struct {
	rows    prometheus.Counter
	batches *prometheus.CounterVec
	lag     prometheus.Histogram
	consume *broker.ConsumeMetrics
}

// New builds a Recorder over the durable "recorder" consumer of RESULTS; Start runs it.
func New(cfg Config, consumer jetstream.Consumer, ledger Ledger, log *slog.Logger, reg prometheus.Registerer) *Recorder {
	cfg = cfg.withDefaults()
	m := &metrics{
		rows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "notifications_ledger_rows_total",
			Help: "Results written to the ledger.",
		}),
		batches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "notifications_ledger_batches_total",
			Help: "Ledger batch writes by result: ok or error (the batch is retried).",
		}, []string{"result"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "notifications_ledger_lag_seconds",
			Help:    "Time from an attempt's end to its result's commit in the ledger.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
	}
	reg.MustRegister(m.rows, m.batches, m.lag)
	m.consume = broker.NewConsumeMetrics(reg)
	return &Recorder{
		cfg: cfg, consumer: consumer, ledger: ledger, metrics: m,
		log:  log.With("component", "recorder"),
		msgs: make(chan jetstream.Msg, cfg.Batch),
	}
}

// Start begins consuming and writing.
func (r *Recorder) Start(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	cc, err := broker.ConsumeWith(r.consumer, broker.ConsumeConfig{Prefetch: 2 * r.cfg.Batch, Logger: r.log, Metrics: r.metrics.consume},
		func(msg jetstream.Msg) { r.msgs <- msg })
	if err != nil {
		return err
	}
	r.consume = cc
	r.done.Add(1)
	go r.loop(ctx)
	r.log.Info("recorder started", "batch", r.cfg.Batch, "flush", r.cfg.Flush.String())
	return nil
}

// Stop stops consuming, writes what it holds, and returns. It is safe to call more than once.
func (r *Recorder) Stop() {
	r.stopOnce.Do(func() {
		broker.StopConsuming(r.consume)
		close(r.msgs)
		r.done.Wait()
	})
}

func (r *Recorder) loop(ctx context.Context) {
	defer r.done.Done()
	batch := make([]jetstream.Msg, 0, r.cfg.Batch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case msg, ok := <-r.msgs:
			if !ok {
				r.flush(ctx, batch)
				return
			}
			if len(batch) == 0 {
				timer.Reset(r.cfg.Flush)
			}
			batch = append(batch, msg)
			if len(batch) < r.cfg.Batch {
				continue
			}
		case <-timer.C:
		}
		timer.Stop()
		r.flush(ctx, batch)
		batch = batch[:0]
	}
}

// decode reads one RESULTS message: a JSON array of results, each of which the ledger would
// accept.
func decode(b []byte) ([]store.Result, error) {
	rs, err := results.Decode(b)
	if err != nil {
		return nil, err
	}
	for _, res := range rs {
		if err := store.ValidateResult(res); err != nil {
			return nil, fmt.Errorf("result %q attempt %d: %w", res.DeliveryID, res.Attempt, err)
		}
	}
	return rs, nil
}

func (r *Recorder) flush(ctx context.Context, batch []jetstream.Msg) {
	if len(batch) == 0 {
		return
	}
	results := make([]store.Result, 0, len(batch))
	good := batch[:0:0]
	for _, msg := range batch {
		rs, err := decode(msg.Data())
		if err != nil {
			// One bad message must not fail, and so hold back, every batch it lands in.
			r.log.Error("unreadable result, terminating it", "subject", msg.Subject(), "err", err)
			_ = msg.TermWithReason("unreadable result")
			continue
		}
		results = append(results, rs...)
		good = append(good, msg)
	}
	wctx, cancel := context.WithTimeout(ctx, r.cfg.WriteTimeout)
	err := r.ledger.Record(wctx, results)
	cancel()
	if err != nil {
		r.metrics.batches.WithLabelValues("error").Inc()
		for _, msg := range good {
			n := uint64(1)
			if md, mdErr := msg.Metadata(); mdErr == nil {
				n = md.NumDelivered
			}
			_ = msg.NakWithDelay(min(r.cfg.MaxRetryDelay, 250*time.Millisecond<<min(n, 8)))
		}
		r.log.Error("ledger write failed, results will be retried", "results", len(results), "err", err)
		return
	}
	r.metrics.batches.WithLabelValues("ok").Inc()
	r.metrics.rows.Add(float64(len(results)))
	now := time.Now()
	for _, res := range results {
		r.metrics.lag.Observe(now.Sub(res.At).Seconds())
	}
	for _, msg := range good {
		_ = msg.Ack()
	}
}
