package fleetproc

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/testutil"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}

func TestConfig(t *testing.T) {
	t.Parallel()
	c := Config{}.WithDefaults()
	if len(c.Channels) != 1 || c.Channels[0] != "webhook" || c.StartTimeout != time.Minute || c.StopGrace != 30*time.Second {
		t.Errorf("defaults = %+v", c)
	}
	for _, bad := range []Config{{LogDir: "l", JetStream: jsStub{}}, {Bin: "b", JetStream: jsStub{}}, {Bin: "b", LogDir: "l"},
		{Bin: "b", LogDir: "l", JetStream: jsStub{}, Workers: -1}} {
		if _, err := Start(context.Background(), bad); err == nil {
			t.Errorf("%+v started", bad)
		}
	}
}

// jsStub only fills Config.JetStream for the validation cases, which never call it.
type jsStub struct{ ConsumerLookup }

// TestFleetKillRestartAndUnexpectedExit runs the real binaries against an embedded NATS
// server with the embedded SQLite ledger.
func TestFleetKillRestartAndUnexpectedExit(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin := t.TempDir()
	if err := Build(ctx, bin); err != nil {
		t.Fatal(err)
	}
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	logs := t.TempDir()
	f, err := Start(ctx, Config{
		Bin: bin, LogDir: logs, LogPrefix: "t-", Workers: 2, JetStream: js, OwnHTTPAddr: true,
		Env: map[string]string{
			"NOTIFICATIONS_NATS_URL":     n.URL(),
			"NOTIFICATIONS_DATA_DIR":     t.TempDir(),
			"NOTIFICATIONS_HTTP_ADDR":    "127.0.0.1:0",
			"NOTIFICATIONS_DESTINATIONS": `[{"id":"d0","channel":"webhook","url":"http://127.0.0.1:9/","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}]`,
			"NOTIFICATIONS_LOG_FORMAT":   "json",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Stop()
	if got := strings.Join(f.Names(), ","); got != "dispatcher,worker-1,worker-2" {
		t.Errorf("names %s", got)
	}
	for _, name := range f.Names() {
		resp, err := http.Get("http://" + f.HTTPAddr(name) + "/healthz")
		if err != nil {
			t.Fatalf("%s's own HTTP address: %v", name, err)
		}
		resp.Body.Close()
	}

	if err := f.Kill("worker-1"); err != nil {
		t.Fatal(err)
	}
	if u := f.Unexpected(); len(u) != 0 {
		t.Errorf("a killed worker counts as unexpected: %v", u)
	}
	if err := f.Restart("worker-1"); err != nil {
		t.Fatal(err)
	}
	if err := f.WaitConsuming(ctx, broker.StreamDeliveries, "deliver-webhook", 2); err != nil {
		t.Fatal(err)
	}
	if got := len(f.LogFiles()); got != 4 {
		t.Errorf("%d logs, want 4 (a second one for the restarted worker): %v", got, f.LogFiles())
	}

	// A crash the fleet did not cause.
	f.Process("worker-2").Kill()
	u := f.Unexpected()
	if len(u) != 1 || !strings.Contains(u[0], "worker-2 exited") {
		t.Errorf("Unexpected = %v, want worker-2", u)
	}
	if err := f.Kill("nobody"); err == nil {
		t.Error("killed a process that does not exist")
	}
	f.Stop()
	if u := f.Unexpected(); len(u) != 0 {
		t.Errorf("after Stop: %v", u)
	}
}
