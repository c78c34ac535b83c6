package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/natsproc"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// binDir holds the binaries built once for the tests that kill processes.
var binDir string

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.StopSharedPostgres()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreCurrent(),
			// Helpers of the pgx pool and nats-server that end shortly after Close.
			goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
		); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

var (
	binDirOnce = sync.OnceValue(func() error {
		var err error
		binDir, err = os.MkdirTemp("", "herald-bin-")
		return err
	})
	buildCommands = sync.OnceValue(func() error {
		if err := binDirOnce(); err != nil {
			return err
		}
		cmd := exec.Command("go", "build", "-o", binDir+"/", "../../cmd/dispatcher", "../../cmd/channel-worker", "../../cmd/herald", "../../cmd/publisher-sdk")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build: %v\n%s", err, out)
		}
		return nil
	})
	buildNATS = sync.OnceValues(func() (string, error) {
		if err := binDirOnce(); err != nil {
			return "", err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		return natsproc.Build(ctx, binDir)
	})
)

// binary builds (once) and returns the path of one of Herald's commands.
func binary(t *testing.T, name string) string {
	t.Helper()
	if err := buildCommands(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(binDir, name)
}

// natsServer builds (once) and returns the path of the nats-server binary of the module's
// nats-server version, for the tests that kill servers.
func natsServer(t *testing.T) string {
	t.Helper()
	bin, err := buildNATS()
	if err != nil {
		t.Fatalf("build nats-server: %v", err)
	}
	return bin
}

// env is a fleet's configuration as NOTIFICATIONS_* variables.
type env map[string]string

// baseEnv configures a fleet on the test's NATS and PostgreSQL, with fast retries and the
// given webhook destinations.
func baseEnv(t testing.TB, natsURL, dbURL string, dests ...channel.Destination) env {
	t.Helper()
	b, err := json.Marshal(dests)
	if err != nil {
		t.Fatal(err)
	}
	return env{
		"NOTIFICATIONS_NATS_URL":             natsURL,
		"NOTIFICATIONS_DATABASE_URL":         dbURL,
		"NOTIFICATIONS_DATA_DIR":             t.TempDir(),
		"NOTIFICATIONS_HTTP_ADDR":            "127.0.0.1:0",
		"NOTIFICATIONS_DESTINATIONS":         string(b),
		"NOTIFICATIONS_RETRY_BACKOFF":        "100ms,200ms,400ms",
		"NOTIFICATIONS_SEND_TIMEOUT":         "2s",
		"NOTIFICATIONS_RECORDER_FLUSH":       "20ms",
		"NOTIFICATIONS_LOG_FORMAT":           "json",
		"NOTIFICATIONS_LOG_LEVEL":            "info",
		"NOTIFICATIONS_MAX_CONCURRENT":       "64",
		"NOTIFICATIONS_RETRY_WORKERS":        "32",
		"NOTIFICATIONS_DISPATCH_CONCURRENCY": "64",
	}
}

func (e env) get(k string) string { return e[k] }

// list renders the variables for a child process.
func (e env) list() []string {
	out := os.Environ()
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// logBuffer collects a fleet's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fleet is the whole of Herald running in the test's process.
type fleet struct {
	*app.Process
	logs *logBuffer
}

// startFleet runs the dispatcher, recorder and every channel's worker in-process, stopped
// when the test ends (or earlier by Stop).
func startFleet(t testing.TB, e env, role app.Role) *fleet {
	t.Helper()
	cfg, err := config.Load(e.get, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	logs := &logBuffer{}
	log := obs.NewLogger(obs.LogConfig{Level: cfg.LogLevel, Format: "json", Secrets: cfg.Secrets(), Out: logs})
	p, err := app.Start(context.Background(), cfg, role, log)
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(p.Stop)
	return &fleet{Process: p, logs: logs}
}

var wholeFleet = app.Role{Name: "herald", Dispatcher: true, Channels: []string{"all"}, Parts: parts.All()}

// child is a Herald command running as a child process, so that it can be SIGKILLed.
type child struct {
	cmd  *exec.Cmd
	logs *logBuffer
	done chan struct{} // closed when the process has exited
}

func startChild(t *testing.T, e env, name string, args ...string) *child {
	t.Helper()
	c := &child{logs: &logBuffer{}, done: make(chan struct{})}
	c.cmd = exec.Command(binary(t, name), args...)
	c.cmd.Env = e.list()
	c.cmd.Stdout = c.logs
	c.cmd.Stderr = c.logs
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// kill ends the process with SIGKILL (no draining, no acks, no goodbyes) and waits until it
// is gone, failing the test unless SIGKILL is what ended it: a process that had already
// exited would make the test about a crash prove nothing.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(os.Kill); err != nil {
		t.Fatalf("kill: %v", err)
	}
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the process outlived SIGKILL by 30s")
	}
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the process ended with %v, not by SIGKILL; logs:\n%s", c.cmd.ProcessState, c.logs.String())
	}
}

// js connects a JetStream client for the test.
func jsFor(t *testing.T, n *testutil.NATS) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}

// publisher returns an SDK publisher on nc with its defaults.
func publisher(t testing.TB, nc *nats.Conn) *sdk.Publisher {
	t.Helper()
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// ledger opens the test's PostgreSQL for assertions in SQL, as an operator would query it.
func ledger(t testing.TB, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// statusCounts returns the number of ledger rows per status, or nil when the ledger cannot
// be read now (the database may be down or not yet migrated): it is for waiting on a
// condition. Assertions use ledgerStatuses.
func statusCounts(t testing.TB, db *pgxpool.Pool) map[string]int {
	t.Helper()
	out, err := queryStatuses(db)
	if err != nil {
		return nil
	}
	return out
}

// ledgerStatuses returns the number of ledger rows per status, failing the test if the
// ledger cannot be read.
func ledgerStatuses(t testing.TB, db *pgxpool.Pool) map[string]int {
	t.Helper()
	out, err := queryStatuses(db)
	if err != nil {
		t.Fatalf("read the ledger: %v", err)
	}
	return out
}

func queryStatuses(db *pgxpool.Pool) (map[string]int, error) {
	rows, err := db.Query(context.Background(), `SELECT status, COUNT(*) FROM notification_deliveries GROUP BY status`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// deadMessages reads every message of the DEAD stream.
func deadMessages(t testing.TB, js jetstream.JetStream) []jetstream.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := js.OrderedConsumer(ctx, "DEAD", jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []jetstream.Msg
	for uint64(len(out)) < info.NumPending {
		batch, err := cons.Fetch(int(info.NumPending)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			out = append(out, m)
		}
		if batch.Error() != nil {
			t.Fatal(batch.Error())
		}
	}
	return out
}

// logLines returns the log lines that contain every one of the given substrings.
func logLines(logs string, subs ...string) []string {
	var out []string
	for _, line := range strings.Split(logs, "\n") {
		ok := true
		for _, s := range subs {
			if !strings.Contains(line, s) {
				ok = false
				break
			}
		}
		if ok && line != "" {
			out = append(out, line)
		}
	}
	return out
}
