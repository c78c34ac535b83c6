package natsproc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"
)

// binary is the nats-server built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "natsproc-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	binary, err = Build(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("internal/poll.runtime_pollWait")); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

func connect(t *testing.T, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestServerComesBackAfterSIGKILLWithItsStreams(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t)
	s, err := StartServer(ctx, Config{Binary: binary, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	url := s.URL()
	_, js := connect(t, url)
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	// Larger than nats-server's default 1 MiB limit: MaxPayload defaults to 8 MiB.
	big := bytes.Repeat([]byte("x"), 2<<20)
	if _, err := js.Publish(ctx, "t.big", big); err != nil {
		t.Fatalf("publish 2 MiB: %v", err)
	}

	pid := s.Pid()
	s.Kill()
	if s.Running() || s.Pid() != 0 {
		t.Fatal("the server runs after Kill")
	}
	if _, err := nats.Connect(url, nats.Timeout(time.Second)); err == nil {
		t.Fatal("a killed server accepted a connection")
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if s.URL() != url || s.Pid() == pid || s.Pid() == 0 {
		t.Errorf("after restart: url %s (was %s), pid %d (was %d)", s.URL(), url, s.Pid(), pid)
	}
	if !strings.HasSuffix(s.LogFile(), "server-2.log") {
		t.Errorf("second start logs to %s", s.LogFile())
	}
	if err := s.Start(ctx); err != nil { // already running: nothing happens
		t.Fatal(err)
	}
	stream, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := stream.GetLastMsgForSubject(ctx, "t.big")
	if err != nil {
		t.Fatalf("the stream lost its message across SIGKILL: %v", err)
	}
	if len(msg.Data) != len(big) {
		t.Errorf("message of %d bytes, want %d", len(msg.Data), len(big))
	}
}

func TestClusterElectsANewLeaderWhenTheLeaderIsKilled(t *testing.T) {
	t.Parallel()
	ctx := ctxFor(t)
	c, err := StartCluster(ctx, Config{Binary: binary, Dir: t.TempDir(), ClusterName: "t"}, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Stop)
	if got := strings.Count(c.URL(), ","); got != 2 {
		t.Fatalf("URL %q does not list three nodes", c.URL())
	}
	_, js := connect(t, c.URL())
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "R3", Subjects: []string{"r3.>"}, Replicas: 3, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: "c", AckPolicy: jetstream.AckExplicitPolicy}); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := js.Publish(ctx, "r3.x", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.WaitStreamCurrent(ctx, js, "R3", time.Minute); err != nil {
		t.Fatal(err)
	}
	old, err := c.StreamLeader(ctx, js, "R3")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConsumerLeader(ctx, js, "R3", "c"); err != nil {
		t.Fatal(err)
	}

	old.Kill()
	next, err := c.WaitStreamLeader(ctx, js, "R3", old.Name(), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if next == old || !next.Running() {
		t.Fatalf("new leader %s (running %v), old %s", next.Name(), next.Running(), old.Name())
	}
	t.Logf("killed %s, %s leads now", old.Name(), next.Name())
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		_, err := js.Publish(pctx, "r3.x", []byte("after"))
		if err == nil {
			break
		}
		if pctx.Err() != nil {
			t.Fatalf("no publish succeeded after the election: %v", err)
		}
	}

	if err := old.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitStreamCurrent(ctx, js, "R3", time.Minute); err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs < 11 {
		t.Errorf("stream holds %d messages after the failover, want at least 11", info.State.Msgs)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	d := Config{Binary: "b", Dir: "d"}.WithDefaults()
	if d.Name != "nats" || d.ClusterName != "herald" || d.MaxPayload != 8<<20 || d.ReadyTimeout != 30*time.Second {
		t.Errorf("defaults = %+v", d)
	}
	for _, bad := range []Config{{Dir: "d"}, {Binary: "b"}, {Binary: "b", Dir: "d", MaxPayload: -1}} {
		if err := bad.validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if _, err := StartCluster(context.Background(), Config{Binary: "b", Dir: t.TempDir()}, 0); err == nil {
		t.Error("a cluster of no nodes started")
	}
}

func TestServerConf(t *testing.T) {
	t.Parallel()
	single := serverConf("n", 4222, 1024, "/s", "c", 0, nil)
	for _, want := range []string{`server_name: "n"`, `listen: "127.0.0.1:4222"`, "max_payload: 1024", `store_dir: "/s"`} {
		if !strings.Contains(single, want) {
			t.Errorf("configuration lacks %s:\n%s", want, single)
		}
	}
	if strings.Contains(single, "cluster") {
		t.Errorf("a single server's configuration has a cluster block:\n%s", single)
	}
	node := serverConf("c-1", 4222, 1024, "/s", "c", 6222, []string{"nats-route://127.0.0.1:6222", "nats-route://127.0.0.1:6223"})
	want := `cluster {
  name: "c"
  listen: "127.0.0.1:6222"
  routes: ["nats-route://127.0.0.1:6222", "nats-route://127.0.0.1:6223"]
}`
	if !strings.Contains(node, want) {
		t.Errorf("node configuration:\n%s\nwant a block:\n%s", node, want)
	}
}
