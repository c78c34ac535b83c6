package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/internal/testutil"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestEmbeddedDefault runs the README's single-machine command: the herald binary with no
// NATS URL and no database URL (embedded NATS, SQLite ledger), an event published with the
// publisher-sdk CLI, delivered, recorded, and a clean stop on SIGTERM.
func TestEmbeddedDefault(t *testing.T) {
	t.Parallel()
	r := webhooktest.NewReceiver(t, "")
	dataDir := t.TempDir()
	natsAddr := freeAddr(t)
	e := env{
		"NOTIFICATIONS_DATA_DIR":           dataDir,
		"NOTIFICATIONS_EMBEDDED_NATS_ADDR": natsAddr,
		"NOTIFICATIONS_HTTP_ADDR":          "127.0.0.1:0",
		"NOTIFICATIONS_WEBHOOK_ENABLED":    "true",
		"NOTIFICATIONS_WEBHOOK_URL":        r.URL + "/hooks/herald",
		"NOTIFICATIONS_WEBHOOK_SECRET":     r.Secret(),
		"NOTIFICATIONS_LOG_FORMAT":         "json",
	}
	herald := startChild(t, e, "herald")
	testutil.WaitFor(t, 30*time.Second, "the embedded NATS server to accept the producer", func() bool {
		nc, err := connectAsProducer("nats://"+natsAddr, dataDir)
		if err != nil {
			return false
		}
		nc.Close()
		return strings.Contains(herald.logs.String(), `"msg":"started"`)
	})

	// The publisher finds the embedded server and the producer's seed in the data directory.
	pub := exec.Command(binary(t, "publisher-sdk"), "publish", "--type", "payment.failed", "--tenant", "acme",
		"tenant_id=acme", "reason=card declined", "amount=49.99")
	pub.Env = env{"NOTIFICATIONS_EMBEDDED_NATS_ADDR": natsAddr, "NOTIFICATIONS_DATA_DIR": dataDir}.list()
	out, err := pub.CombinedOutput()
	if err != nil {
		t.Fatalf("publisher-sdk: %v\n%s", err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) < 4 || fields[0] != "published" || fields[2] != "stream=EVENTS" || fields[3] != "seq=1" {
		t.Fatalf("publisher-sdk printed %q, want \"published <id> stream=EVENTS seq=1\"", out)
	}
	eventID := fields[1]
	r.WaitForDelivered(t, 1, 30*time.Second)
	if got := r.Requests()[0].ID; got != eventID+":webhook" {
		t.Errorf("webhook-id = %q, want %q", got, eventID+":webhook")
	}

	// The ledger is SQLite in the data directory.
	ledger, err := sqlite.Open(context.Background(), filepath.Join(dataDir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ledger.Close()
	testutil.WaitFor(t, 30*time.Second, "the delivery in the SQLite ledger", func() bool {
		d, _, err := ledger.Delivery(context.Background(), eventID+":webhook")
		return err == nil && d.Status == store.StatusDelivered
	})

	if err := herald.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-herald.done:
	case <-time.After(30 * time.Second):
		t.Fatal("herald did not stop within 30s of SIGTERM")
	}
	if code := herald.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("herald exited %d after SIGTERM, want 0; logs:\n%s", code, herald.logs.String())
	}
}

// TestInvalidConfigurationStopsAtStart: a bad variable stops the process at once, exit code 2,
// with a one-line message naming the variable.
func TestInvalidConfigurationStopsAtStart(t *testing.T) {
	t.Parallel()
	// An operator template that calls a field the payload lacks, on its third line.
	templates := t.TempDir()
	if err := os.MkdirAll(filepath.Join(templates, "slack"), 0o755); err != nil {
		t.Fatal(err)
	}
	broken := "{{define \"title\"}}Paid{{end}}\n{{define \"summary\"}}ok{{end}}\n{{define \"fields\"}}{{.Field \"Amount\" .Data.Amout true}}{{end}}\n"
	if err := os.WriteFile(filepath.Join(templates, "slack", "payment.succeeded.tmpl"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, value, detail string }{
		{"NOTIFICATIONS_MAX_RETRIES", "many", ""},
		{"NOTIFICATIONS_ROUTES", `{"payment.*":["pager"]}`, ""},
		{"NOTIFICATIONS_WEBHOOK_SECRET", "not-a-whsec", ""},
		{"NOTIFICATIONS_TEMPLATES_DIR", templates, "slack/payment.succeeded.tmpl:3"},
	} {
		e := env{
			"NOTIFICATIONS_DATA_DIR":           t.TempDir(),
			"NOTIFICATIONS_EMBEDDED_NATS_ADDR": "127.0.0.1:0",
			"NOTIFICATIONS_HTTP_ADDR":          "127.0.0.1:0",
			"NOTIFICATIONS_WEBHOOK_ENABLED":    "true",
			"NOTIFICATIONS_WEBHOOK_URL":        "https://example.com/hook",
			"NOTIFICATIONS_WEBHOOK_SECRET":     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		}
		e[c.name] = c.value
		cmd := exec.Command(binary(t, "dispatcher"))
		cmd.Env = e.list()
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 {
			t.Errorf("%s=%s: exit %v, want a failure", c.name, c.value, err)
			continue
		}
		last := strings.TrimSpace(string(out))
		if i := strings.LastIndex(last, "\n"); i >= 0 {
			last = last[i+1:]
		}
		if !strings.Contains(last, c.name) {
			t.Errorf("%s=%s: last line %q does not name the variable", c.name, c.value, last)
		}
		if !strings.Contains(last, c.detail) {
			t.Errorf("%s=%s: last line %q does not say %q", c.name, c.value, last, c.detail)
		}
		if c.name == "NOTIFICATIONS_WEBHOOK_SECRET" && strings.Contains(string(out), c.value) {
			t.Errorf("the secret's value appears in the output: %s", out)
		}
	}
}

// TestDisabledServesHealthOnly: with NOTIFICATIONS_ENABLED=false a process starts without
// NATS or a database, answers health and metrics, and delivers nothing.
func TestDisabledServesHealthOnly(t *testing.T) {
	t.Parallel()
	e := env{
		"NOTIFICATIONS_ENABLED":    "false",
		"NOTIFICATIONS_NATS_URL":   "nats://127.0.0.1:1", // nothing listens there
		"NOTIFICATIONS_HTTP_ADDR":  "127.0.0.1:0",
		"NOTIFICATIONS_LOG_FORMAT": "json",
	}
	f := startFleet(t, e, wholeFleet)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get("http://" + f.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	if lines := logLines(f.logs.String(), "notifications are disabled"); len(lines) != 1 {
		t.Errorf("want one log line saying notifications are disabled, got %d", len(lines))
	}
}
