package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/childproc"
	"github.com/heraldhq/herald/internal/fleetproc"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// bench runs every measurement and returns the results.
func bench(ctx context.Context, o options, log *slog.Logger) (*Results, error) {
	h := &harness{o: o}
	var err error
	if h.dir, err = os.MkdirTemp("", "herald-bench-"); err != nil {
		return nil, err
	}
	if o.keep {
		log.Info("keeping the temporary directory", "dir", h.dir)
	} else {
		defer os.RemoveAll(h.dir)
	}
	h.bin = o.bin
	if h.bin == "" {
		h.bin = filepath.Join(h.dir, "bin")
		log.Info("building dispatcher and channel-worker")
		if err := buildBinaries(ctx, h.bin); err != nil {
			return nil, err
		}
	}

	h.natsURL = os.Getenv("NOTIFICATIONS_NATS_URL")
	if h.natsURL == "" {
		h.nats, h.natsURL, err = startNATS(ctx, h.dir)
		if err != nil {
			return nil, err
		}
		defer h.nats.Stop(stopGrace)
	}
	dbURL, stopPG, err := postgresServer(os.Getenv("NOTIFICATIONS_DATABASE_URL"))
	if err != nil {
		return nil, err
	}
	defer stopPG()
	h.dbURL = dbURL

	h.nc, err = nats.Connect(h.natsURL, nats.Name("herald-bench"))
	if err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	defer h.nc.Close()
	h.js, err = jetstream.New(h.nc,
		jetstream.WithPublishAsyncMaxPending(4000),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { h.asyncErrs.Add(1) }))
	if err != nil {
		return nil, err
	}
	if h.secret, err = sdk.NewWebhookSecret(); err != nil {
		return nil, err
	}
	if h.recv, err = newReceiver(h.secret); err != nil {
		return nil, err
	}
	defer h.recv.close()

	res := &Results{Machine: machine(ctx, h), Command: command(), Started: time.Now().UTC()}
	if err := h.reset(ctx); err != nil {
		return nil, err
	}
	if o.only["baseline"] || o.only["pipeline"] {
		log.Info("baseline: bare JetStream publish and acked consume")
		if res.Baseline, err = h.baseline(ctx); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		log.Info("baseline done", "msgs_per_s", int(res.Baseline.PerSecond))
	}
	for _, w := range o.workers {
		if !o.only["pipeline"] {
			break
		}
		for _, f := range o.fanouts {
			log.Info("pipeline run", "workers", w, "fanout", f)
			r, err := h.pipeline(ctx, f, w, res.Baseline.PerSecond)
			if err != nil {
				return nil, fmt.Errorf("pipeline fan-out %d, %d workers: %w", f, w, err)
			}
			log.Info("pipeline run done", "deliveries_per_s", int(r.DeliveriesPerSecond), "ratio", fmt.Sprintf("%.3f", r.Ratio))
			res.Runs = append(res.Runs, r)
		}
	}
	if o.only["ledger"] {
		log.Info("ledger run", "results", o.ledgerN)
		if res.Ledger, err = h.ledger(ctx); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		log.Info("ledger run done", "rows_per_s", int(res.Ledger.RowsPerSecond))
	}
	if o.only["in-flight"] {
		log.Info("in-flight run", "deliveries", o.inFlight)
		if res.InFlight, err = h.inFlight(ctx); err != nil {
			return nil, fmt.Errorf("in flight: %w", err)
		}
	}
	if h.nats != nil {
		res.NATSPeakRSS = h.nats.Usage().HWM
	}
	if n := h.asyncErrs.Load(); n > 0 {
		return nil, fmt.Errorf("%d asynchronous publishes failed", n)
	}
	res.Elapsed = time.Since(res.Started).Round(time.Second).String()
	return res, nil
}

const baselineStream = "HERALD_BENCH_BASELINE"

// baseline is the bare loop against which the pipeline is measured: one publisher sending
// async publishes with Nats-Msg-Id into a file stream, and one pull consumer acking every
// message explicitly, running together, with messages the size of the pipeline's events.
func (h *harness) baseline(ctx context.Context) (Baseline, error) {
	sample, err := eventMsg()
	if err != nil {
		return Baseline{}, err
	}
	size := len(sample.Data)
	s, err := h.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: baselineStream, Subjects: []string{"herald-bench.baseline"}, Storage: jetstream.FileStorage,
		Retention: jetstream.WorkQueuePolicy, Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return Baseline{}, err
	}
	defer func() { _ = h.js.DeleteStream(context.WithoutCancel(ctx), baselineStream) }()
	cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: "baseline", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 20000,
	})
	if err != nil {
		return Baseline{}, err
	}
	n := h.o.baselineN
	var acked atomic.Int64
	done := make(chan struct{})
	// The pull settings Herald's consumers use, so that the baseline cannot stall for the
	// default heartbeat's 30 s either (see broker.ConsumeWith).
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if acked.Add(1) == int64(n) {
			close(done)
		}
	}, jetstream.PullHeartbeat(broker.ConsumeHeartbeat), jetstream.PullExpiry(broker.ConsumePullExpiry))
	if err != nil {
		return Baseline{}, err
	}
	defer cc.Stop()
	body := sample.Data
	prefix := strconv.FormatInt(time.Now().UnixNano(), 36) + "-"
	start := time.Now()
	for i := range n {
		m := &nats.Msg{Subject: "herald-bench.baseline", Header: nats.Header{jetstream.MsgIDHeader: []string{prefix + strconv.Itoa(i)}}, Data: body}
		if _, err := h.js.PublishMsgAsync(m, jetstream.WithStallWait(30*time.Second)); err != nil {
			return Baseline{}, err
		}
	}
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		return Baseline{}, fmt.Errorf("consumer acked %d of %d", acked.Load(), n)
	case <-ctx.Done():
		return Baseline{}, ctx.Err()
	}
	el := time.Since(start)
	return Baseline{Messages: n, MessageBytes: size, Seconds: el.Seconds(), PerSecond: float64(n) / el.Seconds()}, nil
}

// sample is what a run reads at the start and end of its measured window.
type sample struct {
	at      time.Time
	procs   []childproc.Usage
	machine time.Duration
	rows    int64
}

func (h *harness) sample(ctx context.Context, f *fleetproc.Fleet, db *pgx.Conn) sample {
	s := sample{at: time.Now(), machine: childproc.MachineCPU()}
	for _, p := range f.Procs() {
		s.procs = append(s.procs, p.Usage())
	}
	if h.nats != nil {
		s.procs = append(s.procs, h.nats.Usage())
	}
	self, _ := childproc.ReadUsage(os.Getpid())
	s.procs = append(s.procs, self)
	if d, a, err := ledgerRows(ctx, db); err == nil {
		s.rows = d + a
	}
	return s
}

// pipeline runs the fleet at one fan-out and worker count: a paced run (fan-out 1 only), then
// a saturation run.
func (h *harness) pipeline(ctx context.Context, fanout, workers int, baseline float64) (Run, error) {
	r := Run{Fanout: fanout, Workers: workers}
	if err := h.reset(ctx); err != nil {
		return r, err
	}
	f, err := h.startFleet(ctx, fanout, workers, nil)
	if err != nil {
		return r, err
	}
	defer f.Stop()
	db, err := pgx.Connect(ctx, h.dbURL)
	if err != nil {
		return r, err
	}
	defer db.Close(context.WithoutCancel(ctx))

	// Warm up: connections, JIT-free but caches and pools.
	base := h.recv.delivered.Load()
	if err := h.publish(200); err != nil {
		return r, err
	}
	if err := h.drain(ctx, base, 200*fanout); err != nil {
		return r, err
	}
	h.recv.take()

	if fanout == 1 {
		base = h.recv.delivered.Load()
		start := time.Now()
		n, err := h.paced(ctx, h.o.rate, h.o.paced)
		if err != nil {
			return r, err
		}
		if err := h.drain(ctx, base, n*fanout); err != nil {
			return r, err
		}
		from := start.Add(h.o.paced / 5).UnixNano()
		lat := latencies(h.recv.take(), from, start.Add(h.o.paced).UnixNano())
		r.Paced = &Paced{EventsPerSecond: h.o.rate, Latency: lat}
	}

	base = h.recv.delivered.Load()
	start := time.Now()
	from, to := start.Add(h.o.warmup), start.Add(h.o.saturation)
	samples := make(chan sample, 2)
	go func() {
		for _, at := range []time.Time{from, to} {
			time.Sleep(time.Until(at)) // a measurement instant, not a wait on a condition
			samples <- h.sample(ctx, f, db)
		}
	}()
	n, err := h.saturate(ctx, fanout, h.o.window, h.o.saturation, base)
	if err != nil {
		return r, err
	}
	s0, s1 := <-samples, <-samples
	if err := h.drain(ctx, base, n*fanout); err != nil {
		return r, err
	}
	arr := h.recv.take()
	var inWindow int64
	for _, a := range arr {
		if a.at >= s0.at.UnixNano() && a.at < s1.at.UnixNano() {
			inWindow++
		}
	}
	secs := s1.at.Sub(s0.at).Seconds()
	r.Deliveries = inWindow
	r.Seconds = secs
	r.DeliveriesPerSecond = float64(inWindow) / secs
	r.EventsPerSecond = r.DeliveriesPerSecond / float64(fanout)
	r.Ratio = r.DeliveriesPerSecond / baseline
	r.Saturation = latencies(arr, s0.at.UnixNano(), s1.at.UnixNano())
	var herald time.Duration
	procs := f.Procs()
	for i, p := range procs {
		cpu := s1.procs[i].CPU - s0.procs[i].CPU
		herald += cpu
		r.Processes = append(r.Processes, Process{Name: p.Name(), CPUSeconds: cpu.Seconds(), PeakRSS: p.Usage().HWM})
	}
	// The others' share: NATS (when embedded) and this process (publisher and receiver).
	others := []string{"harness"}
	if h.nats != nil {
		others = []string{"nats", "harness"}
	}
	for i, name := range others {
		j := len(procs) + i
		r.Processes = append(r.Processes, Process{Name: name, CPUSeconds: (s1.procs[j].CPU - s0.procs[j].CPU).Seconds()})
	}
	if inWindow > 0 {
		r.HeraldCPUPer1k = herald.Seconds() * 1000 / float64(inWindow)
		r.MachineCPUPer1k = (s1.machine - s0.machine).Seconds() * 1000 / float64(inWindow)
	}
	r.CPUBusy = (s1.machine - s0.machine).Seconds() / secs / float64(runtime.NumCPU())
	r.LedgerRowsPerSecond = float64(s1.rows-s0.rows) / secs
	r.Rejected = h.recv.rejected.Swap(0)
	return r, nil
}

// latencies summarises publish-to-delivery latency of the events published in [from, to).
func latencies(arr []arrival, from, to int64) Latency {
	var d []float64
	for _, a := range arr {
		if a.sent >= from && a.sent < to {
			d = append(d, float64(a.at-a.sent)/1e6)
		}
	}
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	q := func(p float64) float64 { return d[min(len(d)-1, int(p*float64(len(d))))] }
	return Latency{Count: len(d), P50: q(0.50), P95: q(0.95), P99: q(0.99), Max: d[len(d)-1]}
}

// ledger preloads RESULTS with one worker result per message, as workers publish them, then
// starts the dispatcher (whose recorder writes them) and times the rows landing in PostgreSQL.
func (h *harness) ledger(ctx context.Context) (Ledger, error) {
	l := Ledger{Results: h.o.ledgerN}
	if err := h.reset(ctx); err != nil {
		return l, err
	}
	topo := broker.Topology{Prefix: "herald", DuplicateWindow: 2 * time.Minute, Replicas: 1}
	if err := topo.Apply(ctx, h.js); err != nil {
		return l, err
	}
	now := time.Now().UTC()
	prefix := strconv.FormatInt(now.UnixNano(), 36)
	for i := range h.o.ledgerN {
		id := fmt.Sprintf("%s-%07d", prefix, i)
		body, err := json.Marshal([]store.Result{{
			DeliveryID: id + ":d0", EventID: id, TenantID: "acme", EventType: "payment.succeeded",
			Channel: "webhook", Destination: "d0", Attempt: 1, Status: store.StatusDelivered,
			HTTPStatus: 204, DurationMS: 1, At: now,
		}})
		if err != nil {
			return l, err
		}
		m := &nats.Msg{Subject: "herald.results.webhook", Header: nats.Header{jetstream.MsgIDHeader: []string{id + ":d0:1"}}, Data: body}
		if _, err := h.js.PublishMsgAsync(m, jetstream.WithStallWait(30*time.Second)); err != nil {
			return l, err
		}
	}
	select {
	case <-h.js.PublishAsyncComplete():
	case <-time.After(2 * time.Minute):
		return l, fmt.Errorf("preloading RESULTS did not finish")
	}
	db, err := pgx.Connect(ctx, h.dbURL)
	if err != nil {
		return l, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	f, err := h.startFleet(ctx, 1, 0, nil)
	if err != nil {
		return l, err
	}
	defer f.Stop()
	cpu0 := f.Process("dispatcher").Usage().CPU
	var first time.Time
	var firstRows int64
	want := int64(h.o.ledgerN)
	err = childproc.WaitFor(ctx, 5*time.Minute, "the ledger rows", func() bool {
		_, a, err := ledgerRows(ctx, db)
		if err != nil || a == 0 {
			return false
		}
		if first.IsZero() {
			first, firstRows = time.Now(), a
		}
		return a >= want
	})
	if err != nil {
		return l, err
	}
	secs := time.Since(first).Seconds()
	cpu := f.Process("dispatcher").Usage().CPU - cpu0
	results := float64(want - firstRows)
	l.Seconds = secs
	l.ResultsPerSecond = results / secs
	l.RowsPerSecond = 2 * results / secs // a delivery row and an attempt row per result
	l.RecorderCPUPer1k = cpu.Seconds() * 1000 / float64(want)
	return l, nil
}

// inFlight holds deliveries at the receiver until one worker has MAX_CONCURRENT of them in
// flight, and reads the worker's peak resident memory.
func (h *harness) inFlight(ctx context.Context) (InFlight, error) {
	n := h.o.inFlight
	r := InFlight{Deliveries: n}
	if err := h.reset(ctx); err != nil {
		return r, err
	}
	f, err := h.startFleet(ctx, 1, 1, map[string]string{
		"NOTIFICATIONS_MAX_CONCURRENT": strconv.Itoa(n),
		// All of them to the one destination.
		"NOTIFICATIONS_DESTINATION_MAX_CONCURRENT": strconv.Itoa(n),
		"NOTIFICATIONS_SEND_TIMEOUT":               "2m",
	})
	if err != nil {
		return r, err
	}
	defer f.Stop()
	release := h.recv.holdRequests()
	defer release()
	base := h.recv.delivered.Load()
	total := n + n/5
	if err := h.publish(total); err != nil {
		return r, err
	}
	if err := childproc.WaitFor(ctx, 2*time.Minute, fmt.Sprintf("%d requests held at the receiver", n), func() bool {
		return h.recv.inFlight.Load() >= int64(n)
	}); err != nil {
		return r, err
	}
	w := f.Process("worker-1").Usage()
	r.Held = h.recv.inFlight.Load()
	r.RSS = w.RSS
	release()
	if err := h.drain(ctx, base, total); err != nil {
		return r, err
	}
	h.recv.take()
	r.PeakRSS = f.Process("worker-1").Usage().HWM
	return r, nil
}

// machine describes where the benchmark ran.
func machine(ctx context.Context, h *harness) Machine {
	m := Machine{CPUs: runtime.NumCPU(), CPUModel: childproc.CPUModel(), Go: runtime.Version(), NATS: h.nc.ConnectedServerVersion()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + kernelVersion(strings.TrimSpace(string(b)))
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if f := strings.Fields(line); len(f) >= 2 {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			m.MemoryGiB = float64(kb) / (1 << 20)
		}
	}
	if conn, err := pgx.Connect(ctx, h.dbURL); err == nil {
		_ = conn.QueryRow(ctx, `SHOW server_version`).Scan(&m.PostgreSQL)
		conn.Close(ctx)
	}
	return m
}

// command is how this run was started, for the report.
func command() string {
	return strings.TrimSpace("go run ./cmd/herald-bench " + strings.Join(os.Args[1:], " "))
}

// kernelVersion keeps the major and minor version of a kernel release ("6.18.44-xyz" is
// "6.18"): enough to compare runs, without the build's local suffix.
func kernelVersion(release string) string {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return release
	}
	return parts[0] + "." + strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
}
