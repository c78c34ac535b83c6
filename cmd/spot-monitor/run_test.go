package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/cmd/spot-monitor/internal/spot"
	"github.com/heraldhq/herald/cmd/spot-monitor/internal/spot/spottest"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRun runs the command as an operator would, with the fleet's variables: it detects
// the cloud, publishes the notice under the configured prefix and tenant, and exits 0 on
// its context's end.
func TestRun(t *testing.T) {
	n := testutil.StartNATS(t)
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := (broker.Topology{Prefix: "acmeco"}).Apply(ctx, js); err != nil {
		t.Fatal(err)
	}
	f := spottest.NewGCP(t, "7000000000000000001")
	env := map[string]string{
		"NOTIFICATIONS_NATS_URL":       n.URL(),
		"NOTIFICATIONS_SUBJECT_PREFIX": "acmeco",
		"SPOT_MONITOR_INTERVAL":        "10ms",
		"NOTIFICATIONS_LOG_FORMAT":     "json",
	}
	stderr := &syncBuffer{}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	go func() {
		done <- run(runCtx, []string{"--metadata-url", f.URL, "--tenant", "acme", "--node-id", "gpu-7"},
			func(k string) string { return env[k] }, stderr)
	}()
	testutil.WaitFor(t, 10*time.Second, "polls", func() bool { return f.Polls() >= 3 })
	f.SetPreempted(true)
	var ev *sdk.Event
	testutil.WaitFor(t, 10*time.Second, "the event on acmeco.events.acme.node.terminated", func() bool {
		s, err := js.Stream(ctx, "EVENTS")
		if err != nil {
			return false
		}
		m, err := s.GetLastMsgForSubject(ctx, "acmeco.events.acme.node.terminated")
		if err != nil {
			return false
		}
		ev, err = sdk.Decode(m.Data)
		return err == nil
	})
	if !strings.HasPrefix(ev.ID, "spot-gcp-") || !strings.Contains(string(ev.Data), `"node_id":"gpu-7"`) {
		t.Errorf("event %s with data %s, want a spot-gcp- id and node_id gpu-7", ev.ID, ev.Data)
	}
	stop()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit %d, want 0; stderr:\n%s", code, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10s of its context's end")
	}
	for _, want := range []string{`"msg":"detected the cloud"`, `"cloud":"gcp"`, `"msg":"published node.terminated"`} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("the logs lack %s:\n%s", want, stderr)
		}
	}
}

// TestThroughHerald: with the whole fleet running (embedded NATS with its roles, SQLite),
// the monitor connects as a producer with the seed the fleet generated, and a spot notice
// reaches the operator's webhook once, signed, however long it stands.
func TestThroughHerald(t *testing.T) {
	r := webhooktest.NewReceiver(t, "")
	dataDir := t.TempDir()
	fleetEnv := map[string]string{
		"NOTIFICATIONS_DATA_DIR":           dataDir,
		"NOTIFICATIONS_EMBEDDED_NATS_ADDR": "127.0.0.1:0",
		"NOTIFICATIONS_HTTP_ADDR":          "127.0.0.1:0",
		"NOTIFICATIONS_WEBHOOK_ENABLED":    "true",
		"NOTIFICATIONS_WEBHOOK_URL":        r.URL + "/hooks/herald",
		"NOTIFICATIONS_WEBHOOK_SECRET":     r.Secret(),
	}
	cfg, err := config.Load(func(k string) string { return fleetEnv[k] }, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := app.Start(context.Background(), cfg, app.Role{
		Name: "herald", Dispatcher: true, Channels: []string{"all"}, EmbeddedNATS: true, Parts: parts.All(),
	}, obs.Discard())
	if err != nil {
		t.Fatalf("start the fleet: %v", err)
	}
	t.Cleanup(fleet.Stop)

	f := spottest.NewAWS(t, "i-0c0ffee000000001")
	env := map[string]string{
		"NOTIFICATIONS_NATS_CREDS": filepath.Join(dataDir, "nats-credentials", "producer.nk"),
		"SPOT_MONITOR_INTERVAL":    "10ms",
		"NOTIFICATIONS_LOG_FORMAT": "json",
	}
	stderr := &syncBuffer{}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--cloud", "aws", "--metadata-url", f.URL, "--nats-url", fleet.NATSURL(), "--tenant", "acme"},
			func(k string) string { return env[k] }, stderr)
	}()
	t.Cleanup(func() {
		stop()
		if code := <-done; code != 0 {
			t.Errorf("exit %d; stderr:\n%s", code, stderr)
		}
	})
	testutil.WaitFor(t, 10*time.Second, "polls", func() bool { return f.Polls() >= 3 })
	at := time.Now().Add(2 * time.Minute).Truncate(time.Second)
	f.SetNotice("terminate", at)
	r.WaitForDelivered(t, 1, 30*time.Second)
	testutil.WaitFor(t, 10*time.Second, "more polls", func() bool { return f.Polls() >= 50 })

	want := spot.EventID(spot.CloudAWS, "i-0c0ffee000000001", "terminate@"+at.UTC().Format(time.RFC3339)) + ":webhook"
	reqs := r.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1; monitor:\n%s", len(reqs), stderr)
	}
	if reqs[0].ID != want {
		t.Errorf("webhook-id %q, want %q", reqs[0].ID, want)
	}
	v, err := sdk.NewVerifier(r.Secret())
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(reqs[0].Header, reqs[0].Body); err != nil {
		t.Errorf("the webhook's signature: %v", err)
	}
	ev, err := sdk.Decode(reqs[0].Body)
	if err != nil || ev.Type != sdk.TypeNodeTerminated || ev.TenantID != "acme" ||
		!strings.Contains(string(ev.Data), `"node_id":"i-0c0ffee000000001"`) {
		t.Errorf("delivered %s (%v), want acme's node.terminated for i-0c0ffee000000001", reqs[0].Body, err)
	}
}

// TestUsageErrors: a mistake in the command line or a variable exits 2 with a line naming
// it, before anything is contacted.
func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--cloud", "oracle"}, nil, "--cloud"},
		{nil, map[string]string{"SPOT_MONITOR_INTERVAL": "often"}, "SPOT_MONITOR_INTERVAL"},
		{[]string{"--interval", "0s"}, nil, "--interval"},
		{[]string{"--tenant", "a.b"}, nil, "--tenant"},
		{[]string{"--cloud", "aws", "--azure-approve"}, nil, "--azure-approve"},
		{[]string{"extra"}, nil, "unexpected argument"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), c.args, func(k string) string { return c.env[k] }, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%v %v: exit %d, stderr %q; want 2 naming %s", c.args, c.env, code, stderr.String(), c.want)
		}
	}
}

// TestNoCloud: with no metadata service to be found, the command says so and exits 1.
func TestNoCloud(t *testing.T) {
	var stderr bytes.Buffer
	// A closed port on loopback: nothing answers there.
	code := run(context.Background(), []string{"--metadata-url", "http://127.0.0.1:1", "--log-format", "json"},
		func(string) string { return "" }, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), spot.ErrNoCloud.Error()) {
		t.Errorf("exit %d, stderr %q; want 1 and %q", code, stderr.String(), spot.ErrNoCloud)
	}
}
