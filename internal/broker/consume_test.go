package broker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/heraldhq/herald/internal/testutil"
)

// syncBuffer is a log sink that handlers on several goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestConsumeHealsAStalledPullWithinSeconds(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	// The server keeps one pull request of this consumer waiting and drops any other without
	// a word (a client that asks for heartbeats gets no 409 Exceeded MaxWaiting). The
	// client's count of the messages it is owed then drifts above what the server owes:
	// the drift behind the stall, made deterministic.
	cons, err := js.CreateOrUpdateConsumer(ctx, "S", jetstream.ConsumerConfig{
		Durable: "stalling", AckPolicy: jetstream.AckExplicitPolicy, MaxWaiting: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	var consumed atomic.Int64
	cc, err := ConsumeWith(cons, ConsumeConfig{
		Prefetch: 10,
		Logger:   slog.New(slog.NewTextHandler(logs, nil)),
		Metrics:  NewConsumeMetrics(reg),
	}, func(m jetstream.Msg) {
		_ = m.Ack()
		consumed.Add(1)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer StopConsuming(cc)
	// With a prefetch of 10, the pull that replaces the first one is dropped after 6
	// messages, and the 11th finds no pull waiting: each message must nonetheless arrive
	// within seconds, where JetStream's default pull expiry would leave it 30 s behind.
	for i := range 30 {
		if _, err := js.Publish(ctx, "s.x", fmt.Appendf(nil, "%d", i)); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("message %d to be consumed", i+1), func() bool {
			return consumed.Load() > int64(i)
		})
	}
	// The drift did happen, or this test proves nothing; and no stall went unsaid.
	stalls := counterValue(t, NewConsumeMetrics(reg).stalls.WithLabelValues("stalling"))
	if stalls < 1 {
		t.Fatalf("notifications_consume_stalls_total{consumer=\"stalling\"} = %v: the client's count never drifted", stalls)
	}
	if got := strings.Count(logs.String(), `level=WARN msg="consume stalled: nothing from JetStream, pulling again" consumer=stalling`); float64(got) < stalls {
		t.Errorf("%d stall warnings logged for %v stalls counted; logs:\n%s", got, stalls, logs.String())
	}
}

func TestNewConsumeMetricsSharesOneSeriesPerRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a, b := NewConsumeMetrics(reg), NewConsumeMetrics(reg) // the dispatcher and the recorder of one process
	a.stalls.WithLabelValues("dispatcher").Inc()
	b.stalls.WithLabelValues("dispatcher").Inc()
	if got := counterValue(t, a.stalls.WithLabelValues("dispatcher")); got != 2 {
		t.Fatalf("stalls = %v, want 2 counted in one series", got)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
