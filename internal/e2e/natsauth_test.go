package e2e

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/internal/natsproc"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// connectAsProducer connects as the producer of the embedded default whose data directory
// is dataDir.
func connectAsProducer(url, dataDir string) (*nats.Conn, error) {
	c := natsauth.Client{}.Discover(dataDir, natsauth.Role{Kind: natsauth.Producer})
	if c.Creds == "" {
		return nil, errors.New("no producer seed yet")
	}
	opts, err := c.Options()
	if err != nil {
		return nil, err
	}
	return nats.Connect(url, append(opts, nats.Timeout(time.Second))...)
}

// TestEmbeddedDefaultWithAWorkerProcess: the dispatcher binary runs the embedded server with
// Herald's roles, and a channel-worker process on the same machine, given only the data
// directory and the server's address, finds its role's seed there and delivers. A
// connection without credentials is refused, and the producer cannot publish a delivery.
func TestEmbeddedDefaultWithAWorkerProcess(t *testing.T) {
	t.Parallel()
	r := webhooktest.NewReceiver(t, "")
	dataDir, natsAddr := t.TempDir(), freeAddr(t)
	e := env{
		"NOTIFICATIONS_DATA_DIR":           dataDir,
		"NOTIFICATIONS_EMBEDDED_NATS_ADDR": natsAddr,
		"NOTIFICATIONS_HTTP_ADDR":          "127.0.0.1:0",
		"NOTIFICATIONS_WEBHOOK_ENABLED":    "true",
		"NOTIFICATIONS_WEBHOOK_URL":        r.URL + "/hooks/herald",
		"NOTIFICATIONS_WEBHOOK_SECRET":     r.Secret(),
		"NOTIFICATIONS_LOG_FORMAT":         "json",
	}
	dispatcher := startChild(t, e, "dispatcher")
	url := "nats://" + natsAddr
	testutil.WaitFor(t, 60*time.Second, "the dispatcher to start", func() bool {
		return strings.Contains(dispatcher.logs.String(), `"msg":"started"`)
	})
	if nc, err := nats.Connect(url, nats.Timeout(time.Second)); !errors.Is(err, nats.ErrAuthorization) {
		if nc != nil {
			nc.Close()
		}
		t.Fatalf("connect to the embedded server without credentials: %v, want an authorization violation", err)
	}
	worker := startChild(t, e, "channel-worker", "--channel", "webhook")
	testutil.WaitFor(t, 60*time.Second, "the worker to start", func() bool {
		return strings.Contains(worker.logs.String(), `"msg":"started"`)
	})

	nc, err := connectAsProducer(url, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	refused := make(chan error, 8)
	nc.SetErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { refused <- err })
	if err := nc.Publish("herald.deliver.webhook.acme", []byte(`{"forged":true}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-refused:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Fatalf("forged delivery: %v, want a permissions violation", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the producer's forged delivery was not refused")
	}
	ev := publishEvent(t, nc)
	r.WaitForDelivered(t, 1, 30*time.Second)
	if got := r.Requests()[0].ID; got != ev+":webhook" {
		t.Errorf("webhook-id = %q, want %q", got, ev+":webhook")
	}
	logs := dispatcher.logs.String() + worker.logs.String()
	if strings.Contains(logs, "\"SU") {
		t.Error("a seed appears in the logs")
	}
	if strings.Contains(logs, "Permissions Violation") {
		t.Errorf("a process of the fleet was refused something its role needs:\n%s", logs)
	}
}

// TestSeparateProcessesWithCredentials: a nats-server process holding every role to its
// subjects (auth.conf as the credentials command writes it), a dispatcher and a webhook
// worker each with its own seed in NOTIFICATIONS_NATS_CREDS, and an event published by
// publisher-sdk as the producer: it is delivered. The worker started with the
// dispatcher's credentials missing is refused at start, naming the variable.
func TestSeparateProcessesWithCredentials(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	creds := t.TempDir()
	roles := []natsauth.Role{{Kind: natsauth.Producer}, {Kind: natsauth.Dispatcher}, natsauth.WorkerOf("webhook")}
	users, err := natsauth.EnsureSeeds(creds, "herald", roles)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := natsproc.StartServer(ctx, natsproc.Config{Binary: natsServer(t), Dir: t.TempDir(), Extra: string(natsauth.AuthConf(users))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)

	r := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, srv.URL(), "", r.Destination("hooks"))
	delete(e, "NOTIFICATIONS_DATABASE_URL") // the dispatcher's SQLite ledger is enough here
	withCreds := func(role natsauth.Role) env {
		out := env{}
		for k, v := range e {
			out[k] = v
		}
		out["NOTIFICATIONS_DATA_DIR"] = t.TempDir()
		out["NOTIFICATIONS_NATS_CREDS"] = natsauth.SeedFile(creds, role)
		return out
	}
	dispatcher := startChild(t, withCreds(roles[1]), "dispatcher")
	testutil.WaitFor(t, 60*time.Second, "the dispatcher to start", func() bool {
		return strings.Contains(dispatcher.logs.String(), `"msg":"started"`)
	})
	worker := startChild(t, withCreds(roles[2]), "channel-worker", "--channel", "webhook")
	testutil.WaitFor(t, 60*time.Second, "the worker to start", func() bool {
		return strings.Contains(worker.logs.String(), `"msg":"started"`)
	})

	pub := exec.Command(binary(t, "publisher-sdk"), "publish", "--type", "payment.failed", "--tenant", "acme",
		"tenant_id=acme", "reason=card declined", "amount=49.99")
	pub.Env = env{"NOTIFICATIONS_NATS_URL": srv.URL(), "NOTIFICATIONS_NATS_CREDS": natsauth.SeedFile(creds, roles[0])}.list()
	out, err := pub.CombinedOutput()
	if err != nil {
		t.Fatalf("publisher-sdk: %v\n%s", err, out)
	}
	r.WaitForDelivered(t, 1, 30*time.Second)
	if got, want := r.Requests()[0].ID, strings.Fields(string(out))[1]+":hooks"; got != want {
		t.Errorf("webhook-id = %q, want %q", got, want)
	}
	if logs := dispatcher.logs.String() + worker.logs.String(); strings.Contains(logs, "Permissions Violation") {
		t.Errorf("a process of the fleet was refused something its role needs:\n%s", logs)
	}

	// A process whose credentials file is missing stops at start, naming the variable.
	bad := withCreds(roles[2])
	bad["NOTIFICATIONS_NATS_CREDS"] += ".missing"
	cmd := exec.Command(binary(t, "channel-worker"), "--channel", "webhook")
	cmd.Env = bad.list()
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "NOTIFICATIONS_NATS_CREDS") {
		t.Errorf("a worker with a missing credentials file: %v\n%s", err, out)
	}
}

// publishEvent publishes a payment.failed event of acme with the SDK and returns its id.
func publishEvent(t *testing.T, nc *nats.Conn) string {
	t.Helper()
	ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 49.99})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := publisher(t, nc).Publish(ctx, ev); err != nil {
		t.Fatalf("publish as the producer: %v", err)
	}
	return ev.ID
}
