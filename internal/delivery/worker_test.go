package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	chName = "fake"
	tenant = "acme"
	destID = "ops-hook"
	// waitLong bounds every wait on JetStream; the tests finish in well under a second each.
	waitLong = 10 * time.Second
)

// send is one call of fakeChannel.Send.
type send struct {
	deliveryID string
	attempt    int
	at         time.Time
}

// fakeChannel is the worker's port to a provider. Its outcomes are scripted by the test;
// it records every call.
type fakeChannel struct {
	outcome func(ctx context.Context, n channel.Notification) channel.Outcome

	mu    sync.Mutex
	sends []send
}

func (f *fakeChannel) Name() string                       { return chName }
func (f *fakeChannel) Validate(channel.Destination) error { return nil }

func (f *fakeChannel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	f.mu.Lock()
	f.sends = append(f.sends, send{n.DeliveryID, n.Attempt, time.Now()})
	f.mu.Unlock()
	if n.Event == nil || n.Destination.ID != destID || len(n.Raw) == 0 {
		return channel.Fail(0, "the worker passed an incomplete notification")
	}
	return f.outcome(ctx, n)
}

// Sends returns the calls so far.
func (f *fakeChannel) Sends() []send {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sends)
}

// perAttempt scripts one outcome per attempt; the last repeats.
func perAttempt(outs ...channel.Outcome) func(context.Context, channel.Notification) channel.Outcome {
	return func(_ context.Context, n channel.Notification) channel.Outcome {
		return outs[min(n.Attempt, len(outs))-1]
	}
}

// env is a running worker on a real JetStream with the real stream definitions, and its fakes.
type env struct {
	js       jetstream.JetStream
	nc       *nats.Conn
	cons     jetstream.Consumer
	ch       *fakeChannel
	worker   *delivery.Worker
	reg      *prometheus.Registry
	metrics  *delivery.Metrics
	attempts *delivery.KVAttempts
}

// newEnv starts NATS, applies the topology and creates the channel's consumer as app.go does,
// without starting a worker.
func newEnv(t *testing.T, attempts int, sendTimeout time.Duration) *env {
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
	base, err := topo.Consumer(broker.StreamDeliveries, "channel", chName)
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, broker.StreamDeliveries, delivery.ConsumerConfig(base, attempts, sendTimeout))
	if err != nil {
		t.Fatalf("create consumer: %v", err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, delivery.AttemptsBucketConfig("herald", 1))
	if err != nil {
		t.Fatalf("attempts bucket: %v", err)
	}
	reg := prometheus.NewRegistry()
	return &env{js: js, nc: nc, cons: cons, reg: reg, metrics: delivery.NewMetrics(reg), attempts: delivery.NewKVAttempts(kv)}
}

// setup starts a worker with cfg whose channel answers with outcome.
func setup(t *testing.T, cfg delivery.Config, outcome func(context.Context, channel.Notification) channel.Outcome) *env {
	t.Helper()
	if cfg.SendTimeout == 0 {
		cfg.SendTimeout = 5 * time.Second
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = 4
	}
	e := newEnv(t, cfg.Attempts, cfg.SendTimeout)
	e.ch = &fakeChannel{outcome: outcome}
	e.worker = delivery.New(cfg, delivery.Deps{
		Consumer:  e.cons,
		Publisher: e.js,
		Channel:   e.ch,
		Destinations: delivery.StaticDestinations{
			destID: webhook.Destination(destID, "https://example.com/hook", ""),
		},
		Attempts: e.attempts,
		Metrics:  e.metrics,
		Logger:   obs.Discard(),
	})
	if err := e.worker.Start(t.Context()); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(e.worker.Stop)
	return e
}

// newDelivery builds a delivery of a new payment.failed event to dest, as the dispatcher's
// fan-out does, and returns it with its delivery id.
func newDelivery(t *testing.T, dest string) (*nats.Msg, string) {
	t.Helper()
	ev, err := sdk.NewPaymentFailed(tenant, sdk.PaymentFailed{TenantID: tenant, Reason: "card declined", Amount: 42})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	id := broker.DeliveryID(ev.ID, dest)
	m := nats.NewMsg(broker.Subjects{Prefix: "herald"}.Deliver(chName, ev.Tenant()))
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, id)
	m.Header.Set(broker.HeaderDeliveryID, id)
	m.Header.Set(broker.HeaderDestination, dest)
	m.Header.Set(broker.HeaderEventID, ev.ID)
	m.Header.Set(broker.HeaderEventType, ev.Type)
	m.Header.Set(broker.HeaderTenant, ev.Tenant())
	return m, id
}

// publishMsg publishes a delivery to DELIVERIES.
func (e *env) publishMsg(t *testing.T, m *nats.Msg) {
	t.Helper()
	if _, err := e.js.PublishMsg(t.Context(), m); err != nil {
		t.Fatalf("publish delivery: %v", err)
	}
}

// publish publishes a new delivery to dest and returns its id and body.
func (e *env) publish(t *testing.T, dest string) (string, []byte) {
	t.Helper()
	m, id := newDelivery(t, dest)
	e.publishMsg(t, m)
	return id, m.Data
}

// streamMsgs returns the messages a stream holds, oldest first.
func (e *env) streamMsgs(t *testing.T, name string) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := t.Context()
	s, err := e.js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	if info.State.Msgs == 0 {
		return nil
	}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("get %s message %d: %v", name, seq, err)
		}
		out = append(out, m)
	}
	return out
}

// results returns the results of one delivery published to RESULTS, by attempt.
func (e *env) results(t *testing.T, deliveryID string) []store.Result {
	t.Helper()
	var out []store.Result
	for _, m := range e.streamMsgs(t, broker.StreamResults) {
		if m.Subject != "herald.results."+chName {
			t.Errorf("result on subject %q, want herald.results.%s", m.Subject, chName)
		}
		var rs []store.Result
		if err := json.Unmarshal(m.Data, &rs); err != nil {
			t.Fatalf("result message is not a JSON array of results: %v: %s", err, m.Data)
		}
		for _, r := range rs {
			if r.DeliveryID == deliveryID {
				out = append(out, r)
			}
		}
	}
	slices.SortFunc(out, func(a, b store.Result) int { return a.Attempt - b.Attempt })
	return out
}

// waitResults waits until n results of the delivery are on RESULTS and returns them.
func (e *env) waitResults(t *testing.T, deliveryID string, n int) []store.Result {
	t.Helper()
	var rs []store.Result
	testutil.WaitFor(t, waitLong, strconv.Itoa(n)+" results of "+deliveryID, func() bool {
		rs = e.results(t, deliveryID)
		return len(rs) >= n
	})
	return rs
}

// waitSettled waits until DELIVERIES is empty and the consumer holds nothing, neither
// waiting nor handed out: no further attempt can come.
func (e *env) waitSettled(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	testutil.WaitFor(t, waitLong, "DELIVERIES empty and the consumer idle", func() bool {
		ci, err := e.cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return testutil.StreamMsgs(t, e.js, broker.StreamDeliveries) == 0 && ci.NumPending == 0 && ci.NumAckPending == 0
	})
}

// advisories subscribes to one kind of consumer advisory of the channel's consumer, such as
// MSG_TERMINATED or MSG_NAKED, and returns what arrived so far on each call.
func (e *env) advisories(t *testing.T, kind string) func() []map[string]any {
	t.Helper()
	var (
		mu  sync.Mutex
		got []map[string]any
	)
	sub, err := e.nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER."+kind+"."+broker.StreamDeliveries+".deliver-"+chName, func(m *nats.Msg) {
		var a map[string]any
		if err := json.Unmarshal(m.Data, &a); err != nil {
			a = map[string]any{"unreadable": string(m.Data)} // kept, so that a test sees it
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

// counter reads a counter or gauge of the registry by name and labels; 0 if absent.
func counter(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			return value(m)
		}
	}
	return 0
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}

func statuses(rs []store.Result) []store.Status {
	out := make([]store.Status, len(rs))
	for i, r := range rs {
		out[i] = r.Status
	}
	return out
}

func attempts(rs []store.Result) []int {
	out := make([]int, len(rs))
	for i, r := range rs {
		out[i] = r.Attempt
	}
	return out
}

func TestDeliveredIsAcked(t *testing.T) {
	t.Parallel()
	e := setup(t, delivery.Config{}, perAttempt(channel.Sent(200)))
	id, _ := e.publish(t, destID)

	rs := e.waitResults(t, id, 1)
	e.waitSettled(t)

	if len(rs) != 1 {
		t.Fatalf("results = %+v, want one", rs)
	}
	r := rs[0]
	eventID, _, _ := strings.Cut(id, ":")
	want := store.Result{
		DeliveryID: id, EventID: eventID, TenantID: tenant, EventType: sdk.TypePaymentFailed,
		Channel: chName, Destination: destID, Attempt: 1, Status: store.StatusDelivered, HTTPStatus: 200,
	}
	got := r
	got.At = time.Time{}
	if got != want {
		t.Errorf("result = %+v\nwant     %+v", got, want)
	}
	if r.At.IsZero() || time.Since(r.At) > time.Minute {
		t.Errorf("result time = %s, want about now", r.At)
	}
	if s := e.ch.Sends(); len(s) != 1 || s[0].attempt != 1 || s[0].deliveryID != id {
		t.Errorf("sends = %+v, want one first attempt", s)
	}
	if dead := e.streamMsgs(t, broker.StreamDead); len(dead) != 0 {
		t.Errorf("DEAD holds %d messages, want none", len(dead))
	}
	if v := counter(t, e.reg, "notifications_delivered_total", map[string]string{"channel": chName, "event_type": sdk.TypePaymentFailed, "status": "delivered"}); v != 1 {
		t.Errorf("notifications_delivered_total{status=delivered} = %v, want 1", v)
	}
}

func TestRetriesFollowBackoff(t *testing.T) {
	t.Parallel()
	backoff := []time.Duration{150 * time.Millisecond, 300 * time.Millisecond}
	e := setup(t, delivery.Config{Backoff: delivery.Backoff{Delays: backoff}}, perAttempt(
		channel.RetryLater(503, 0, "service unavailable"),
		channel.RetryLater(502, 0, "bad gateway"),
		channel.Sent(204),
	))
	naks := e.advisories(t, "MSG_NAKED")
	id, _ := e.publish(t, destID)

	rs := e.waitResults(t, id, 3)
	e.waitSettled(t)

	if got, want := statuses(rs), []store.Status{store.StatusRetrying, store.StatusRetrying, store.StatusDelivered}; !slices.Equal(got, want) {
		t.Errorf("statuses = %v, want %v", got, want)
	}
	if got := attempts(rs); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("attempts = %v, want [1 2 3]", got)
	}
	if rs[0].Error != "service unavailable" || rs[0].HTTPStatus != 503 || rs[1].HTTPStatus != 502 || rs[2].Error != "" || rs[2].HTTPStatus != 204 {
		t.Errorf("results = %+v, want each attempt's status and reason", rs)
	}
	sends := e.ch.Sends()
	if len(sends) != 3 {
		t.Fatalf("%d sends, want 3: %+v", len(sends), sends)
	}
	for i, b := range backoff {
		gap := sends[i+1].at.Sub(sends[i].at)
		if lo := time.Duration(0.8 * float64(b)); gap < lo {
			t.Errorf("attempt %d came %s after attempt %d, want at least %s (backoff %s less jitter)", i+2, gap, i+1, lo, b)
		}
	}
	testutil.WaitFor(t, waitLong, "two NAK advisories", func() bool { return len(naks()) >= 2 })
	if n := len(naks()); n != 2 {
		t.Errorf("%d NAK advisories, want 2", n)
	}
	if v := counter(t, e.reg, "notification_retries_total", map[string]string{"channel": chName}); v != 2 {
		t.Errorf("notification_retries_total = %v, want 2", v)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter time.Duration
		backoff    delivery.Backoff
		wantGap    time.Duration // the second attempt comes no sooner
		maxGap     time.Duration // and no later
	}{
		{
			name:       "Retry-After wins over a shorter backoff",
			retryAfter: 700 * time.Millisecond,
			backoff:    delivery.Backoff{Delays: []time.Duration{10 * time.Millisecond}},
			wantGap:    700 * time.Millisecond,
			maxGap:     5 * time.Second,
		},
		{
			name:       "Retry-After above Max is capped",
			retryAfter: time.Hour,
			backoff:    delivery.Backoff{Delays: []time.Duration{10 * time.Millisecond}, Max: 400 * time.Millisecond},
			wantGap:    400 * time.Millisecond,
			maxGap:     5 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, delivery.Config{Backoff: tt.backoff}, perAttempt(
				channel.RetryLater(503, tt.retryAfter, "unavailable"),
				channel.Sent(200),
			))
			id, _ := e.publish(t, destID)

			rs := e.waitResults(t, id, 2)
			e.waitSettled(t)

			if got := statuses(rs); !slices.Equal(got, []store.Status{store.StatusRetrying, store.StatusDelivered}) {
				t.Errorf("statuses = %v, want retrying, delivered", got)
			}
			sends := e.ch.Sends()
			if len(sends) != 2 {
				t.Fatalf("%d sends, want 2", len(sends))
			}
			if gap := sends[1].at.Sub(sends[0].at); gap < tt.wantGap || gap > tt.maxGap {
				t.Errorf("second attempt came %s after the first, want between %s and %s", gap, tt.wantGap, tt.maxGap)
			}
		})
	}
}

// TestDeadLetters covers the three ways a delivery ends in DEAD: a permanent failure, retries
// until the attempts run out, and a destination this worker does not know.
func TestDeadLetters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		attempts     int
		dest         string
		outcomes     []channel.Outcome
		wantSends    int
		wantStatuses []store.Status
		wantDead     store.Status
		wantError    string // the last result's error
		wantReason   string // Herald-Dead-Reason
	}{
		{
			name:         "permanent failure",
			attempts:     4,
			dest:         destID,
			outcomes:     []channel.Outcome{channel.Fail(410, "endpoint gone")},
			wantSends:    1,
			wantStatuses: []store.Status{store.StatusFailed},
			wantDead:     store.StatusFailed,
			wantError:    "endpoint gone",
			wantReason:   "endpoint gone",
		},
		{
			name:         "attempts run out",
			attempts:     3,
			dest:         destID,
			outcomes:     []channel.Outcome{channel.RetryLater(503, 0, "service unavailable")},
			wantSends:    3,
			wantStatuses: []store.Status{store.StatusRetrying, store.StatusRetrying, store.StatusDead},
			wantDead:     store.StatusDead,
			wantError:    "service unavailable",
			wantReason:   "gave up after 3 attempts: service unavailable",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, delivery.Config{
				Attempts: tt.attempts,
				Backoff:  delivery.Backoff{Delays: []time.Duration{10 * time.Millisecond}},
			}, perAttempt(tt.outcomes...))
			terms := e.advisories(t, "MSG_TERMINATED")
			id, body := e.publish(t, tt.dest)

			var dead []*jetstream.RawStreamMsg
			testutil.WaitFor(t, waitLong, "a dead letter", func() bool {
				dead = e.streamMsgs(t, broker.StreamDead)
				return len(dead) > 0
			})
			rs := e.waitResults(t, id, len(tt.wantStatuses))
			e.waitSettled(t)

			// Nothing more can come: the delivery is gone and the consumer holds nothing.
			if got := len(e.ch.Sends()); got != tt.wantSends {
				t.Errorf("%d sends, want %d", got, tt.wantSends)
			}
			if got := statuses(rs); !slices.Equal(got, tt.wantStatuses) {
				t.Errorf("result statuses = %v, want %v", got, tt.wantStatuses)
			}
			for i, r := range rs {
				if r.Attempt != i+1 {
					t.Errorf("result %d has attempt %d", i, r.Attempt)
				}
			}
			if last := rs[len(rs)-1]; last.Error != tt.wantError {
				t.Errorf("last result error = %q, want %q", last.Error, tt.wantError)
			}

			if len(dead) != 1 {
				t.Fatalf("DEAD holds %d messages, want 1", len(dead))
			}
			d := dead[0]
			if want := "herald.dead." + chName + "." + tenant; d.Subject != want {
				t.Errorf("dead letter subject = %q, want %q", d.Subject, want)
			}
			if string(d.Data) != string(body) {
				t.Errorf("dead letter body = %s, want the original event", d.Data)
			}
			h := d.Header
			checks := map[string]string{
				broker.HeaderDeadStatus:      string(tt.wantDead),
				broker.HeaderAttempts:        strconv.Itoa(len(tt.wantStatuses)),
				broker.HeaderDeliveryID:      id,
				broker.HeaderDestination:     tt.dest,
				broker.HeaderOriginalSubject: "herald.deliver." + chName + "." + tenant,
				jetstream.MsgIDHeader:        id + ":dead",
			}
			for k, want := range checks {
				if got := h.Get(k); got != want {
					t.Errorf("dead letter header %s = %q, want %q", k, got, want)
				}
			}
			if got := h.Get(broker.HeaderDeadReason); got != tt.wantReason {
				t.Errorf("dead letter reason = %q, want %q", got, tt.wantReason)
			}

			testutil.WaitFor(t, waitLong, "a terminated advisory", func() bool { return len(terms()) > 0 })
			if a := terms(); len(a) != 1 || a[0]["reason"] != string(tt.wantDead) {
				t.Errorf("terminated advisories = %v, want one with reason %q", a, tt.wantDead)
			}
		})
	}
}

// TestRetryWorkersCap checks that retried sends never exceed RetryWorkers while first
// attempts keep flowing past them, even when more retries wait for the retry slot than the
// worker has send slots.
func TestRetryWorkersCap(t *testing.T) {
	t.Parallel()
	var (
		retryIDs sync.Map // delivery ids whose first attempt fails
		release  = make(chan struct{})
		active   atomic.Int32 // retried sends running now
		peak     atomic.Int32
	)
	e := setup(t, delivery.Config{
		MaxConcurrent: 4,
		RetryWorkers:  1,
		Backoff:       delivery.Backoff{Delays: []time.Duration{10 * time.Millisecond}},
	}, func(ctx context.Context, n channel.Notification) channel.Outcome {
		if _, retried := retryIDs.Load(n.DeliveryID); !retried {
			return channel.Sent(200)
		}
		if n.Attempt == 1 {
			return channel.RetryLater(503, 0, "busy")
		}
		now := active.Add(1)
		defer active.Add(-1)
		for p := peak.Load(); now > p && !peak.CompareAndSwap(p, now); p = peak.Load() {
		}
		select {
		case <-release:
			return channel.Sent(200)
		case <-ctx.Done():
			return channel.RetryLater(0, 0, "cancelled")
		}
	})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	// Six deliveries fail once and come back as retries; the first holds the only retry
	// slot until released, the others wait for it.
	ids := make([]string, 6)
	for i := range ids {
		m, id := newDelivery(t, destID)
		retryIDs.Store(id, true) // before the worker can see it
		e.publishMsg(t, m)
		ids[i] = id
	}
	ctx := t.Context()
	testutil.WaitFor(t, waitLong, "six retries handed to the worker, one of them sending", func() bool {
		ci, err := e.cons.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ci.NumRedelivered == len(ids) && active.Load() >= 1
	})

	// Fresh deliveries, handed out after the waiting retries, still go through.
	fresh := make([]string, 5)
	for i := range fresh {
		fresh[i], _ = e.publish(t, destID)
	}
	for _, id := range fresh {
		rs := e.waitResults(t, id, 1)
		if rs[0].Status != store.StatusDelivered || rs[0].Attempt != 1 {
			t.Errorf("fresh delivery result = %+v, want delivered on attempt 1", rs[0])
		}
	}
	// The worker took the retries before these: all six are in its hands by now.
	if got := active.Load(); got != 1 {
		t.Errorf("%d retried sends running at once, want RetryWorkers = 1", got)
	}

	released = true
	close(release)
	for _, id := range ids {
		rs := e.waitResults(t, id, 2)
		if got := statuses(rs); !slices.Equal(got, []store.Status{store.StatusRetrying, store.StatusDelivered}) {
			t.Errorf("retried delivery statuses = %v, want retrying, delivered", got)
		}
	}
	e.waitSettled(t)
	if p := peak.Load(); p != 1 {
		t.Errorf("up to %d retried sends ran at once, want at most RetryWorkers = 1", p)
	}
}

// TestStopWaitsForSendsInFlight stops a worker during a send: Stop returns only after the
// send has finished and its delivery is acked, and nothing is redelivered.
func TestStopWaitsForSendsInFlight(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	signal := sync.OnceFunc(func() { close(started) })
	e := setup(t, delivery.Config{}, func(ctx context.Context, _ channel.Notification) channel.Outcome {
		signal()
		select {
		case <-release:
			return channel.Sent(200)
		case <-ctx.Done():
			return channel.RetryLater(0, 0, "cancelled")
		}
	})
	id, _ := e.publish(t, destID)
	select {
	case <-started:
	case <-time.After(waitLong):
		t.Fatal("the send did not start")
	}

	stopped := make(chan struct{})
	go func() {
		e.worker.Stop()
		close(stopped)
	}()
	// A negative check needs a window: Stop must still be waiting a moment later.
	select {
	case <-stopped:
		t.Fatal("Stop returned while a send was in flight")
	case <-time.After(150 * time.Millisecond):
	}
	close(release)
	select {
	case <-stopped:
	case <-time.After(waitLong):
		t.Fatal("Stop did not return after the send finished")
	}

	rs := e.results(t, id)
	if len(rs) != 1 || rs[0].Status != store.StatusDelivered {
		t.Errorf("results when Stop returned = %+v, want one delivered", rs)
	}
	e.waitSettled(t)
	ci, err := e.cons.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if ci.NumRedelivered != 0 || ci.Delivered.Consumer != 1 {
		t.Errorf("consumer delivered %d times, %d redelivered; want once, none", ci.Delivered.Consumer, ci.NumRedelivered)
	}
	if n := len(e.ch.Sends()); n != 1 {
		t.Errorf("%d sends, want 1", n)
	}
}

// TestUnsettledHandoutsSpendNoAttempt: a delivery that workers took and never settled (they
// were killed mid-send) comes back on its first attempt: only a send whose outcome was
// recorded spends one. With a single attempt configured it is still sent, and delivered.
func TestUnsettledHandoutsSpendNoAttempt(t *testing.T) {
	t.Parallel()
	const attempts = 1
	e := newEnv(t, attempts, 100*time.Millisecond) // AckWait 200ms
	m, id := newDelivery(t, destID)
	e.publishMsg(t, m)
	// Three deliveries nobody settles, as from workers killed mid-send.
	for got := 0; got < 3; {
		batch, err := e.cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
			got++
		}
	}
	e.ch = &fakeChannel{outcome: perAttempt(channel.Sent(200))}
	w := delivery.New(delivery.Config{Attempts: attempts, SendTimeout: 100 * time.Millisecond}, delivery.Deps{
		Consumer:     e.cons,
		Publisher:    e.js,
		Channel:      e.ch,
		Destinations: delivery.StaticDestinations{destID: webhook.Destination(destID, "https://example.com/hook", "")},
		Attempts:     e.attempts,
		Metrics:      e.metrics,
		Logger:       obs.Discard(),
	})
	if err := w.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)

	rs := e.waitResults(t, id, 1)
	if rs[0].Status != store.StatusDelivered || rs[0].Attempt != 1 {
		t.Errorf("result = %+v, want delivered on attempt 1", rs[0])
	}
	e.waitSettled(t)
	if s := e.ch.Sends(); len(s) != 1 || s[0].attempt != 1 {
		t.Errorf("sends %+v, want one, attempt 1", s)
	}
	if dead := e.streamMsgs(t, broker.StreamDead); len(dead) != 0 {
		t.Errorf("%d dead letters, want none", len(dead))
	}
}

// TestRetryOnAnotherWorkerKeepsItsCount: the attempt count lives in JetStream, not in the
// worker: a retry picked up by a second worker process is on attempt 2 there, and the
// delivery still dies after exactly its attempts.
func TestRetryOnAnotherWorkerKeepsItsCount(t *testing.T) {
	t.Parallel()
	const attempts = 3
	e := newEnv(t, attempts, time.Second)
	chans := []*fakeChannel{
		{outcome: perAttempt(channel.RetryLater(503, 0, "unavailable"))},
		{outcome: perAttempt(channel.RetryLater(503, 0, "unavailable"))},
	}
	for _, ch := range chans {
		w := delivery.New(delivery.Config{Attempts: attempts, SendTimeout: time.Second,
			Backoff: delivery.Backoff{Delays: []time.Duration{20 * time.Millisecond}}}, delivery.Deps{
			Consumer:     e.cons,
			Publisher:    e.js,
			Channel:      ch,
			Destinations: delivery.StaticDestinations{destID: webhook.Destination(destID, "https://example.com/hook", "")},
			Attempts:     e.attempts,
			Metrics:      e.metrics,
			Logger:       obs.Discard(),
		})
		if err := w.Start(t.Context()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	ids := map[string]bool{}
	for range 20 {
		id, _ := e.publish(t, destID)
		ids[id] = true
	}
	testutil.WaitFor(t, waitLong, "every delivery to die", func() bool {
		return len(e.streamMsgs(t, broker.StreamDead)) == len(ids)
	})
	e.waitSettled(t)
	perDelivery := map[string][]int{}
	for _, ch := range chans {
		for _, s := range ch.Sends() {
			perDelivery[s.deliveryID] = append(perDelivery[s.deliveryID], s.attempt)
		}
	}
	for id := range ids {
		got := perDelivery[id]
		slices.Sort(got)
		if !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("delivery %s was sent as attempts %v, want [1 2 3]", id, got)
		}
	}
}
