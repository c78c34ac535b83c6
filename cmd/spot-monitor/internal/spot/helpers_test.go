package spot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/cmd/spot-monitor/internal/spot"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// natsAt runs an embedded JetStream server that the test can stop and start again on the
// same port and store directory, as a NATS restart looks to a client.
type natsAt struct {
	dir  string
	port int
	srv  *server.Server
}

func startNATS(t *testing.T) *natsAt {
	t.Helper()
	n := &natsAt{dir: t.TempDir(), port: -1}
	n.start(t)
	n.port = n.srv.Addr().(*net.TCPAddr).Port
	t.Cleanup(n.stop)
	// Herald's streams, as every process of the fleet applies them at start.
	nc, js := n.js(t)
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := (broker.Topology{}).Apply(ctx, js); err != nil {
		t.Fatalf("apply streams: %v", err)
	}
	return n
}

func (n *natsAt) start(t *testing.T) {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: n.port, JetStream: true, StoreDir: n.dir, NoSigs: true, NoLog: true,
	})
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready within 10s")
	}
	n.srv = s
}

func (n *natsAt) stop() {
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
}

func (n *natsAt) url() string { return n.srv.ClientURL() }

// js connects a client that keeps reconnecting quickly through restarts.
func (n *natsAt) js(t *testing.T) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(n.url(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatalf("connect nats: %v", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// events returns the events the EVENTS stream holds now, or nil if it cannot be read now.
func events(t *testing.T, js jetstream.JetStream) []*sdk.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, broker.StreamEvents)
	if err != nil {
		return nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil
	}
	var out []*sdk.Event
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("get EVENTS #%d: %v", seq, err)
		}
		ev, err := sdk.Decode(m.Data)
		if err != nil {
			t.Fatalf("EVENTS #%d: %v", seq, err)
		}
		if got := m.Header.Get(jetstream.MsgIDHeader); got != ev.ID {
			t.Errorf("EVENTS #%d: Nats-Msg-Id %q, event id %q", seq, got, ev.ID)
		}
		out = append(out, ev)
	}
	return out
}

// counter counts every message published on the event subjects, duplicates included:
// a core subscription sees each publish, whatever the stream keeps.
type counter struct{ n atomic.Int64 }

func countPublishes(t *testing.T, nc *nats.Conn) *counter {
	t.Helper()
	c := &counter{}
	sub, err := nc.Subscribe("herald.events.>", func(*nats.Msg) { c.n.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return c
}

// logBuffer collects the monitor's JSON log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// count returns how many lines have the message msg.
func (l *logBuffer) count(msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, line := range strings.Split(l.buf.String(), "\n") {
		var rec struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
			n++
		}
	}
	return n
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// runMonitor runs a monitor until the test ends, publishing on a connection of its own.
func runMonitor(t *testing.T, n *natsAt, cfg spot.Config) *logBuffer {
	t.Helper()
	nc, err := nats.Connect(n.url(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sdk.NewPublisher(nc, sdk.WithPublishTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	cfg.Publisher = pub
	cfg.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Interval == 0 {
		cfg.Interval = 10 * time.Millisecond
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMin, cfg.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	}
	m, err := spot.NewMonitor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("the monitor did not stop within 10s of its context's end")
		}
		nc.Close()
	})
	return logs
}

// poller is a fake that counts the polls of its notice document.
type poller interface{ Polls() int }

// waitPolls waits until the fake has answered n more polls.
func waitPolls(t *testing.T, f poller, n int) {
	t.Helper()
	from := f.Polls()
	testutil.WaitFor(t, 10*time.Second, "metadata polls", func() bool { return f.Polls() >= from+n })
}
