package recorder_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/recorder"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const waitLong = 10 * time.Second

// env is the RESULTS stream and the recorder's consumer on a real JetStream, with a real
// SQLite ledger on a temporary file.
type env struct {
	js     jetstream.JetStream
	nc     *nats.Conn
	cons   jetstream.Consumer
	ledger *sqlite.Store
	reg    *prometheus.Registry
	logs   *logSink
	rec    *recorder.Recorder
	stop   func()
}

func setup(t *testing.T) *env {
	t.Helper()
	n := testutil.StartNATS(t)
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	topo := broker.Topology{}
	if err := topo.Apply(ctx, js); err != nil {
		t.Fatalf("apply topology: %v", err)
	}
	ccfg, err := topo.Consumer(broker.StreamResults, broker.ConsumerRecorder, "")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, broker.StreamResults, ccfg)
	if err != nil {
		t.Fatalf("create recorder consumer: %v", err)
	}
	ledger, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ledger.Close() })
	if err := ledger.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return &env{js: js, nc: nc, cons: cons, ledger: ledger, reg: prometheus.NewRegistry(), logs: newLogSink()}
}

// start runs a recorder writing to ledger (the SQLite store if nil), stopped at the end of the
// test unless the test stops it first.
func (e *env) start(t *testing.T, cfg recorder.Config, ledger recorder.Ledger) {
	t.Helper()
	if ledger == nil {
		ledger = e.ledger
	}
	e.rec = recorder.New(cfg, e.cons, ledger, slog.New(e.logs), e.reg)
	if err := e.rec.Start(t.Context()); err != nil {
		t.Fatalf("start recorder: %v", err)
	}
	e.stop = sync.OnceFunc(e.rec.Stop)
	t.Cleanup(e.stop)
}

// result is one attempt's result of delivery id, as the workers and the dispatcher publish
// them.
func result(id string, attempt int, status store.Status) store.Result {
	r := store.Result{
		DeliveryID: id, EventID: "evt-" + id, TenantID: "acme", EventType: "payment.failed",
		Channel: "fake", Destination: "ops-hook", Attempt: attempt, Status: status,
		At: time.Now().UTC(),
	}
	if status == store.StatusRetrying || status == store.StatusFailed {
		r.Error, r.HTTPStatus = "provider said no", 503
	}
	return r
}

// publish publishes raw bytes to RESULTS and returns the stream's acknowledgement.
func (e *env) publish(t *testing.T, subject, msgID string, data []byte) *jetstream.PubAck {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = data
	m.Header.Set(jetstream.MsgIDHeader, msgID)
	ack, err := e.js.PublishMsg(t.Context(), m)
	if err != nil {
		t.Fatalf("publish result: %v", err)
	}
	return ack
}

// publishResults publishes a JSON array of results as one message.
func (e *env) publishResults(t *testing.T, subject, msgID string, rs ...store.Result) *jetstream.PubAck {
	t.Helper()
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	return e.publish(t, subject, msgID, b)
}

// recorded returns the ledger's deliveries by id.
func (e *env) recorded(t *testing.T) map[string]store.Delivery {
	t.Helper()
	ds, err := e.ledger.Deliveries(t.Context(), store.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]store.Delivery, len(ds))
	for _, d := range ds {
		out[d.DeliveryID] = d
	}
	return out
}

// attempts returns the attempt numbers the ledger holds for a delivery, oldest first.
func (e *env) attempts(t *testing.T, id string) []int {
	t.Helper()
	_, as, err := e.ledger.Delivery(t.Context(), id)
	if err != nil {
		t.Fatalf("delivery %s: %v", id, err)
	}
	out := make([]int, len(as))
	for i, a := range as {
		out[i] = a.Attempt
	}
	return out
}

// waitRecorded waits until the ledger holds every delivery of want with that status.
func (e *env) waitRecorded(t *testing.T, want map[string]store.Status) {
	t.Helper()
	testutil.WaitFor(t, waitLong, "the ledger to hold every result", func() bool {
		got := e.recorded(t)
		for id, st := range want {
			if got[id].Status != st {
				return false
			}
		}
		return true
	})
}

// waitResultsEmpty waits until RESULTS holds nothing: every message was acked or terminated.
func (e *env) waitResultsEmpty(t *testing.T) {
	t.Helper()
	testutil.WaitFor(t, waitLong, "RESULTS to be empty", func() bool {
		return testutil.StreamMsgs(t, e.js, broker.StreamResults) == 0
	})
}

// advisories collects one kind of the recorder consumer's advisories (MSG_NAKED,
// MSG_TERMINATED) from now on. An advisory that is not a JSON object is collected too, as
// {"undecodable": <its text>}, so that a test expecting none still sees it.
func (e *env) advisories(t *testing.T, kind string) func() []map[string]any {
	t.Helper()
	var (
		mu  sync.Mutex
		got []map[string]any
	)
	sub, err := e.nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER."+kind+"."+broker.StreamResults+"."+broker.ConsumerRecorder, func(m *nats.Msg) {
		var a map[string]any
		if err := json.Unmarshal(m.Data, &a); err != nil || a == nil {
			a = map[string]any{"undecodable": string(m.Data)}
		}
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return func() []map[string]any {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
}

// batchCount reads notifications_ledger_batches_total{result}.
func (e *env) batchCount(t *testing.T, result string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "notifications_ledger_batches_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// logSink is a slog handler that keeps every record, for tests that look at the logs.
type logSink struct {
	mu    *sync.Mutex
	recs  *[]logRecord
	attrs []slog.Attr
}

type logRecord struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func newLogSink() *logSink { return &logSink{mu: new(sync.Mutex), recs: new([]logRecord)} }

func (l *logSink) Enabled(context.Context, slog.Level) bool { return true }

func (l *logSink) Handle(_ context.Context, r slog.Record) error {
	rec := logRecord{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	for _, a := range l.attrs {
		rec.attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.attrs[a.Key] = a.Value.String()
		return true
	})
	l.mu.Lock()
	*l.recs = append(*l.recs, rec)
	l.mu.Unlock()
	return nil
}

func (l *logSink) WithAttrs(as []slog.Attr) slog.Handler {
	return &logSink{mu: l.mu, recs: l.recs, attrs: append(slices.Clone(l.attrs), as...)}
}

func (l *logSink) WithGroup(string) slog.Handler { return l }

// find returns the records with this message.
func (l *logSink) find(msg string) []logRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []logRecord
	for _, r := range *l.recs {
		if r.msg == msg {
			out = append(out, r)
		}
	}
	return out
}

// flakyLedger fails its first writes, then writes to the real ledger.
type flakyLedger struct {
	next recorder.Ledger

	mu       sync.Mutex
	failures int              // writes still to fail
	calls    [][]store.Result // every write, failed or not
}

func (l *flakyLedger) Record(ctx context.Context, rs []store.Result) error {
	l.mu.Lock()
	l.calls = append(l.calls, slices.Clone(rs))
	fail := l.failures > 0
	if fail {
		l.failures--
	}
	l.mu.Unlock()
	if fail {
		return errors.New("database is down")
	}
	return l.next.Record(ctx, rs)
}

func (l *flakyLedger) Calls() [][]store.Result {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.calls)
}

// TestRecordsEveryResultOnce publishes results as the dispatcher (arrays of pending records)
// and the workers (one attempt each) do, with duplicates: a message published twice under
// one Nats-Msg-Id, and a result sent again under another id. The ledger ends with every
// attempt exactly once, and RESULTS, a work queue, ends empty.
func TestRecordsEveryResultOnce(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		batch int
	}{
		{"one message a batch", 1},
		{"small batches", 3},
		{"one batch", 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			terms := e.advisories(t, "MSG_TERMINATED")
			e.start(t, recorder.Config{Batch: tt.batch, Flush: 10 * time.Millisecond}, nil)

			e.publishResults(t, "herald.results.dispatch", "e1:pending",
				result("d1", 0, store.StatusPending), result("d2", 0, store.StatusPending), result("d3", 0, store.StatusPending))
			e.publishResults(t, "herald.results.fake", "d1:1", result("d1", 1, store.StatusDelivered))
			retry := result("d2", 1, store.StatusRetrying)
			e.publishResults(t, "herald.results.fake", "d2:1", retry)
			if ack := e.publishResults(t, "herald.results.fake", "d2:1", retry); !ack.Duplicate {
				t.Errorf("a second publish under one Nats-Msg-Id was not taken for a duplicate")
			}
			e.publishResults(t, "herald.results.fake", "d2:2", result("d2", 2, store.StatusDelivered))
			e.publishResults(t, "herald.results.fake", "d3:1", result("d3", 1, store.StatusFailed))
			// The same attempt again under another id, as after a redelivery past the
			// duplicate window.
			e.publishResults(t, "herald.results.fake", "d1:1:again", result("d1", 1, store.StatusDelivered))
			// A delivery's pending record and its attempt in one message.
			e.publishResults(t, "herald.results.fake", "d4",
				result("d4", 0, store.StatusPending), result("d4", 1, store.StatusRetrying), result("d4", 2, store.StatusDelivered))

			want := map[string]store.Status{
				"d1": store.StatusDelivered, "d2": store.StatusDelivered, "d3": store.StatusFailed, "d4": store.StatusDelivered,
			}
			e.waitRecorded(t, want)
			e.waitResultsEmpty(t)

			got := e.recorded(t)
			if len(got) != len(want) {
				t.Errorf("ledger holds %d deliveries, want %d", len(got), len(want))
			}
			for id, wantAttempts := range map[string][]int{"d1": {1}, "d2": {1, 2}, "d3": {1}, "d4": {1, 2}} {
				if a := e.attempts(t, id); !slices.Equal(a, wantAttempts) {
					t.Errorf("%s attempts = %v, want %v", id, a, wantAttempts)
				}
				if d := got[id]; d.Attempts != wantAttempts[len(wantAttempts)-1] || d.EventID != "evt-"+id || d.Channel != "fake" {
					t.Errorf("%s = %+v", id, d)
				}
			}
			if e.batchCount(t, "error") != 0 || e.batchCount(t, "ok") == 0 {
				t.Errorf("batches: %v ok, %v failed; want some ok, none failed", e.batchCount(t, "ok"), e.batchCount(t, "error"))
			}
			if a := terms(); len(a) != 0 {
				t.Errorf("results were terminated: %v", a)
			}
		})
	}
}

// TestLedgerOutageLosesNothing: while the ledger fails, the results of the failed batches
// are NAKed back to RESULTS, never terminated, and all of them are written once it recovers.
func TestLedgerOutageLosesNothing(t *testing.T) {
	t.Parallel()
	e := setup(t)
	naks := e.advisories(t, "MSG_NAKED")
	terms := e.advisories(t, "MSG_TERMINATED")
	ledger := &flakyLedger{next: e.ledger, failures: 2}
	want := map[string]store.Status{}
	for _, id := range []string{"d1", "d2", "d3", "d4", "d5"} {
		e.publishResults(t, "herald.results.fake", id+":1", result(id, 1, store.StatusDelivered))
		want[id] = store.StatusDelivered
	}
	e.start(t, recorder.Config{Flush: 10 * time.Millisecond, MaxRetryDelay: 50 * time.Millisecond}, ledger)

	e.waitRecorded(t, want)
	e.waitResultsEmpty(t)

	calls := ledger.Calls()
	if len(calls) < 3 {
		t.Fatalf("%d ledger writes, want two failures and a success", len(calls))
	}
	failed := len(calls[0]) + len(calls[1]) // one result a message here
	testutil.WaitFor(t, waitLong, "a NAK for every result of the failed writes", func() bool { return len(naks()) >= failed })
	if a := terms(); len(a) != 0 {
		t.Errorf("results were terminated during the outage: %v", a)
	}
	for id := range want {
		if a := e.attempts(t, id); !slices.Equal(a, []int{1}) {
			t.Errorf("%s attempts = %v, want [1]", id, a)
		}
	}
	if n := e.batchCount(t, "error"); n != 2 {
		t.Errorf("notifications_ledger_batches_total{result=error} = %v, want 2", n)
	}
	if logs := e.logs.find("ledger write failed, results will be retried"); len(logs) != 2 || logs[0].level != slog.LevelError {
		t.Errorf("logged %d failed writes (%+v), want 2 errors", len(logs), logs)
	}
}

// TestUnreadableResultIsTerminated: a message that is not a JSON array of results is
// terminated and logged, and the good results of its batch are recorded.
func TestUnreadableResultIsTerminated(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, body string }{
		{"not JSON", "not json"},
		{"not an array", `{"delivery_id":"d9","attempt":1,"status":"delivered"}`},
		{"a result the ledger would refuse", `[{"attempt":1,"status":"delivered"}]`},
		{"an unknown status", `[{"delivery_id":"d9","event_id":"e9","channel":"webhook","destination":"ops","attempt":1,"status":"lost"}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			terms := e.advisories(t, "MSG_TERMINATED")
			// Three messages, a batch of three, no flush by time: all in one batch.
			e.publishResults(t, "herald.results.fake", "d1:1", result("d1", 1, store.StatusDelivered))
			bad := e.publish(t, "herald.results.fake", "junk", []byte(tt.body))
			e.publishResults(t, "herald.results.fake", "d2:1", result("d2", 1, store.StatusFailed))
			e.start(t, recorder.Config{Batch: 3, Flush: time.Hour}, nil)

			e.waitRecorded(t, map[string]store.Status{"d1": store.StatusDelivered, "d2": store.StatusFailed})
			e.waitResultsEmpty(t)

			testutil.WaitFor(t, waitLong, "a terminated advisory", func() bool { return len(terms()) > 0 })
			a := terms()
			if len(a) != 1 || a[0]["reason"] != "unreadable result" || a[0]["stream_seq"] != float64(bad.Sequence) {
				t.Errorf("terminated advisories = %v, want one for stream sequence %d", a, bad.Sequence)
			}
			logs := e.logs.find("unreadable result, terminating it")
			if len(logs) != 1 || logs[0].level != slog.LevelError || logs[0].attrs["subject"] != "herald.results.fake" || logs[0].attrs["component"] != "recorder" {
				t.Errorf("logs = %+v, want one error naming the subject", logs)
			}
			if got := e.recorded(t); len(got) != 2 {
				t.Errorf("ledger holds %d deliveries, want 2", len(got))
			}
		})
	}
}

// TestStopFlushes: Stop writes the results the recorder holds before their batch is full or
// its flush time has come.
func TestStopFlushes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.start(t, recorder.Config{Batch: 500, Flush: time.Hour}, nil)
	want := map[string]store.Status{}
	for _, id := range []string{"d1", "d2", "d3"} {
		e.publishResults(t, "herald.results.fake", id+":1", result(id, 1, store.StatusDelivered))
		want[id] = store.StatusDelivered
	}
	ctx := t.Context()
	testutil.WaitFor(t, waitLong, "the recorder to hold the three results", func() bool {
		ci, err := e.cons.Info(ctx)
		return err == nil && ci.NumPending == 0 && ci.NumAckPending == 3
	})
	if got := e.recorded(t); len(got) != 0 {
		t.Fatalf("ledger holds %d deliveries before the flush, want none", len(got))
	}

	e.stop()

	got := e.recorded(t)
	for id, st := range want {
		if got[id].Status != st {
			t.Errorf("after Stop, %s = %q, want %q", id, got[id].Status, st)
		}
	}
	e.waitResultsEmpty(t)
}
