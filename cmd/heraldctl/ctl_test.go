package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.StopSharedPostgres()
	os.Exit(code)
}

const adminToken = "test-admin-token-0123456789"

// server is the whole fleet in one process (herald's role) on embedded NATS and a test
// PostgreSQL, with the operator's webhook pointed at a receiver that refuses events whose
// data says "refuse", and a tenant receiver that takes everything.
type server struct {
	url      string
	dataDir  string
	pub      *sdk.Publisher
	operator atomic.Int64 // deliveries the operator's receiver took
	tenant   *httptest.Server
}

func startServer(t *testing.T) *server {
	t.Helper()
	s := &server{dataDir: t.TempDir()}
	op := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte("refuse")) {
			http.Error(w, "refused by the test receiver", http.StatusBadRequest)
			return
		}
		s.operator.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(op.Close)
	s.tenant = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(s.tenant.Close)

	n := testutil.StartNATS(t)
	key, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"NOTIFICATIONS_NATS_URL":        n.URL(),
		"NOTIFICATIONS_DATABASE_URL":    testutil.NewDatabase(t),
		"NOTIFICATIONS_DATA_DIR":        s.dataDir,
		"NOTIFICATIONS_HTTP_ADDR":       "127.0.0.1:0",
		"NOTIFICATIONS_ADMIN_TOKEN":     adminToken,
		"NOTIFICATIONS_SECRETS_KEY":     key,
		"NOTIFICATIONS_SSRF_ALLOW":      "127.0.0.0/8",
		"NOTIFICATIONS_WEBHOOK_ENABLED": "true",
		"NOTIFICATIONS_WEBHOOK_URL":     op.URL + "/hook",
		"NOTIFICATIONS_WEBHOOK_SECRET":  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"NOTIFICATIONS_RETRY_BACKOFF":   "100ms",
		"NOTIFICATIONS_RECORDER_FLUSH":  "20ms",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := app.Start(t.Context(), cfg, app.Role{Name: "herald", Dispatcher: true, Channels: []string{"all"}, Parts: parts.All()}, obs.Discard())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	s.url = "http://" + p.HTTPAddr()
	if s.pub, err = sdk.NewPublisher(n.Connect(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

type result struct {
	code        int
	out, errOut string
}

// ctl runs heraldctl against the server with the admin token.
func (s *server) ctl(t *testing.T, args ...string) result {
	t.Helper()
	return s.ctlEnv(t, map[string]string{"HERALD_URL": s.url, "HERALD_TOKEN": adminToken}, args...)
}

func (s *server) ctlEnv(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return s.ctlIO(t, env, "", args...)
}

// ctlIO runs heraldctl with input on its stdin.
func (s *server) ctlIO(t *testing.T, env map[string]string, input string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(t.Context(), args, stdio{in: strings.NewReader(input), out: &out, err: &errb}, func(k string) string { return env[k] })
	return result{code: code, out: out.String(), errOut: errb.String()}
}

// onTerminal makes heraldctl take its streams for a terminal until the test ends, so that it
// asks its questions and draws its progress bar.
func onTerminal(t *testing.T) {
	saved := isTerminal
	isTerminal = func(any) bool { return true }
	t.Cleanup(func() { isTerminal = saved })
}

// interruptAtOnce delivers n Ctrl-C to the next replay heraldctl watches, at once.
func interruptAtOnce(t *testing.T, n int) {
	saved := interrupts
	interrupts = func() (<-chan os.Signal, func()) {
		ch := make(chan os.Signal, n)
		for range n {
			ch <- os.Interrupt
		}
		return ch, func() {}
	}
	t.Cleanup(func() { interrupts = saved })
}

func (r result) must(t *testing.T, code int, contains ...string) result {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.out, r.errOut)
	}
	for _, c := range contains {
		if !strings.Contains(r.out+r.errOut, c) {
			t.Fatalf("output lacks %q\nstdout:\n%s\nstderr:\n%s", c, r.out, r.errOut)
		}
	}
	return r
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.out), &v); err != nil {
		t.Fatalf("--json printed what is not JSON: %v\n%s", err, r.out)
	}
	return v
}

// TestAgainstTheServer runs heraldctl's commands against the real API, in one fleet, in the
// order an operator would.
func TestAgainstTheServer(t *testing.T) {
	s := startServer(t)

	t.Run("usage", func(t *testing.T) {
		s.ctl(t, "frobnicate").must(t, exitUsage, "unknown command")
		s.ctl(t, "destinations", "ls").must(t, exitUsage, "--tenant is required")
		s.ctl(t, "delivery").must(t, exitUsage, "DELIVERY-ID")
		s.ctl(t, "history", "--limit", "x").must(t, exitUsage)
		s.ctl(t, "replay", "--type", "payment.*").must(t, exitUsage, "--since is required")
		s.ctl(t, "dead", "redrive").must(t, exitUsage, "explicit filter")
		s.ctl(t, "--help").must(t, exitOK, "Exit codes", "HERALD_TOKEN", "admin.token")
	})

	t.Run("credentials and reachability", func(t *testing.T) {
		s.ctlEnv(t, map[string]string{"HERALD_URL": "http://127.0.0.1:1"}, "status").must(t, exitUnreachable, "cannot reach")
		s.ctlEnv(t, map[string]string{"HERALD_URL": s.url, "HERALD_TOKEN": "wrong"}, "status").must(t, exitAuth, "unauthorized")
		s.ctlEnv(t, map[string]string{"HERALD_URL": s.url, "NOTIFICATIONS_DATA_DIR": t.TempDir()}, "status").must(t, exitAuth, "set HERALD_TOKEN")
		// The embedded default's token file, when HERALD_TOKEN is unset.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, tokenFile), []byte(adminToken+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		s.ctlEnv(t, map[string]string{"HERALD_URL": s.url, "NOTIFICATIONS_DATA_DIR": dir}, "status").must(t, exitOK, "webhook")
		s.ctlEnv(t, map[string]string{}, "--url", s.url, "--token", adminToken, "status").must(t, exitOK, "BACKLOG")
	})

	t.Run("status, event types, test", func(t *testing.T) {
		s.ctl(t, "status").must(t, exitOK, "CHANNEL", "webhook")
		st := decode[control.Status](t, s.ctl(t, "status", "--json").must(t, exitOK))
		if len(st.Channels) == 0 {
			t.Errorf("status --json has no channels: %+v", st)
		}
		s.ctl(t, "event-types").must(t, exitOK, "payment.failed", "node.terminated")
		s.ctl(t, "test", "--channel", "webhook").must(t, exitOK, "delivered")
		s.ctl(t, "test", "--channel", "nosuch").must(t, exitAPIError, "invalid_request")
	})

	t.Run("destinations", func(t *testing.T) {
		url := s.tenant.URL + "/acme"
		s.ctl(t, "destinations", "create", "--tenant", "acme", "--channel", "webhook", "--id", "billing",
			"--set", "url="+url, "--event-types", "payment.*").must(t, exitOK, "billing", "secret: whsec_", "only time")
		d := decode[control.Destination](t, s.ctl(t, "destinations", "create", "--tenant", "acme", "--channel", "webhook", "--id", "ops",
			"--config", `{"url":"`+url+`"}`, "--event-types", "*", "--json").must(t, exitOK))
		if d.ID != "ops" || !strings.HasPrefix(d.Secret, "whsec_") {
			t.Errorf("create --json = %+v", d)
		}
		s.ctl(t, "destinations", "create", "--tenant", "acme", "--channel", "webhook", "--id", "bad",
			"--set", "url=ftp://example.com/x").must(t, exitAPIError, "invalid_request")
		s.ctl(t, "destinations", "create", "--tenant", "acme", "--channel", "webhook", "--id", "billing",
			"--set", "url="+url, "--event-types", "*").must(t, exitAPIError, "conflict")
		s.ctl(t, "destinations", "create", "--tenant", "acme", "--channel", "webhook", "--id", "third", "--set", "url="+url, "--event-types", "node.*").must(t, exitOK)

		s.ctl(t, "destinations", "ls", "--tenant", "acme").must(t, exitOK, "billing", "ops", "payment.*")
		all := decode[struct {
			Data       []control.Destination `json:"data"`
			NextCursor string                `json:"next_cursor"`
		}](t, s.ctl(t, "destinations", "ls", "--tenant", "acme", "--limit", "1", "--all", "--json").must(t, exitOK))
		if len(all.Data) != 3 || all.NextCursor != "" {
			t.Errorf("ls --limit 1 --all --json: %d destinations, next %q; want 3 and none", len(all.Data), all.NextCursor)
		}
		one := decode[struct {
			Data       []control.Destination `json:"data"`
			NextCursor string                `json:"next_cursor"`
		}](t, s.ctl(t, "destinations", "ls", "--tenant", "acme", "--limit", "1", "--json").must(t, exitOK))
		if len(one.Data) != 1 || one.NextCursor == "" {
			t.Errorf("ls --limit 1 --json: %d destinations, next %q; want 1 and a cursor", len(one.Data), one.NextCursor)
		}

		s.ctl(t, "destinations", "get", "billing", "--tenant", "acme").must(t, exitOK, "payment.*", "***")
		s.ctl(t, "destinations", "get", "nosuch", "--tenant", "acme").must(t, exitNotFound, "not_found")
		s.ctl(t, "destinations", "update", "billing", "--tenant", "acme", "--event-types", "payment.*,tenant.*").must(t, exitOK, "payment.*,tenant.*")
		s.ctl(t, "destinations", "update", "billing", "--tenant", "acme").must(t, exitUsage, "nothing to change")
		s.ctl(t, "destinations", "disable", "billing", "--tenant", "acme").must(t, exitOK, "no (manual)")
		s.ctl(t, "destinations", "enable", "billing", "--tenant", "acme").must(t, exitOK, "enabled  ")
		s.ctl(t, "destinations", "rotate-secret", "billing", "--tenant", "acme", "--overlap", "1h").must(t, exitOK, "secret: whsec_", "old secret signs until")
		s.ctl(t, "destinations", "test", "billing", "--tenant", "acme").must(t, exitOK, "delivered")
		s.ctl(t, "destinations", "rm", "third", "--tenant", "acme").must(t, exitOK, "deleted")
		s.ctl(t, "destinations", "rm", "third", "--tenant", "acme").must(t, exitNotFound)
	})

	t.Run("keys", func(t *testing.T) {
		k := decode[struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}](t, s.ctl(t, "keys", "create", "--tenant", "acme", "--json").must(t, exitOK))
		if !strings.HasPrefix(k.Key, "hk_") {
			t.Fatalf("keys create --json = %+v", k)
		}
		s.ctl(t, "keys", "ls", "--tenant", "acme").must(t, exitOK, k.ID)
		// The tenant key may read its tenant's destinations, and no admin path.
		tenant := map[string]string{"HERALD_URL": s.url, "HERALD_TOKEN": k.Key}
		s.ctlEnv(t, tenant, "destinations", "ls", "--tenant", "acme").must(t, exitOK, "billing")
		s.ctlEnv(t, tenant, "status").must(t, exitAuth, "forbidden")
		s.ctl(t, "keys", "rm", k.ID, "--tenant", "acme").must(t, exitOK, "revoked")
		testutil.WaitFor(t, 5*time.Second, "the revoked key to stop working", func() bool {
			return s.ctlEnv(t, tenant, "destinations", "ls", "--tenant", "acme").code == exitAuth
		})
	})

	// Two events for the operator's webhook, one of which it refuses for good.
	publish := func(reason string) string {
		ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: reason, Amount: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.pub.Publish(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		return ev.ID
	}
	okID, refusedID := publish("card declined"), publish("refuse")
	var history []store.Delivery
	testutil.WaitFor(t, 30*time.Second, "both events' operator deliveries to be recorded as final", func() bool {
		r := s.ctl(t, "history", "--channel", "webhook", "--destination", "webhook", "--status", "delivered,failed", "--json")
		if r.code != exitOK {
			return false
		}
		history = decode[struct {
			Data []store.Delivery `json:"data"`
		}](t, r).Data
		return len(history) >= 2
	})

	t.Run("history and delivery", func(t *testing.T) {
		s.ctl(t, "history", "--tenant", "acme", "--type", "payment.*").must(t, exitOK, "DELIVERY ID", okID, refusedID, "failed", "delivered")
		s.ctl(t, "history", "--event-id", okID, "--since", "1h").must(t, exitOK, okID)
		s.ctl(t, "history", "--status", "bogus").must(t, exitAPIError, "invalid_request")
		s.ctl(t, "delivery", refusedID+":webhook").must(t, exitOK, "ATTEMPT", "400", "refused by the test receiver")
		d := decode[control.DeliveryDetail](t, s.ctl(t, "delivery", okID+":webhook", "--json").must(t, exitOK))
		if d.Status != store.StatusDelivered || len(d.AttemptsDetail) == 0 {
			t.Errorf("delivery --json = %+v", d)
		}
		s.ctl(t, "delivery", "nosuch:webhook").must(t, exitNotFound)
	})

	t.Run("dead letters", func(t *testing.T) {
		s.ctl(t, "dead", "ls", "--channel", "webhook").must(t, exitOK, refusedID)
		// A filter-wide redrive asks first; with nobody to ask, it wants --yes.
		s.ctl(t, "dead", "redrive", "--channel", "webhook", "--tenant", "acme").must(t, exitUsage, "--yes")
		s.ctl(t, "dead", "redrive", "--channel", "webhook", "--tenant", "acme", "--yes").must(t, exitOK, "redriven 1 dead letter")
		testutil.WaitFor(t, 30*time.Second, "the redriven letter to fail again and be dead-lettered", func() bool {
			return strings.Contains(s.ctl(t, "dead", "ls", "--channel", "webhook").out, refusedID)
		})
		// The ledger may show the letter a moment before the DEAD stream holds it again.
		testutil.WaitFor(t, 10*time.Second, "dead discard to discard the letter", func() bool {
			r := decode[map[string]int](t, s.ctl(t, "dead", "discard", refusedID+":webhook", "--json").must(t, exitOK))
			return r["discarded"] == 1
		})
		if out := s.ctl(t, "dead", "ls", "--channel", "webhook").must(t, exitOK).out; strings.Contains(out, refusedID) {
			t.Errorf("a discarded dead letter is still listed:\n%s", out)
		}
	})

	t.Run("replay", func(t *testing.T) {
		s.ctl(t, "replay", "--since", "1h", "--type", "payment.*", "--channel", "webhook", "--dry-run").must(t, exitOK, "2 events match", "dry run")
		dry := decode[control.Replay](t, s.ctl(t, "replay", "--since", "1h", "--channel", "webhook", "--dry-run", "--json").must(t, exitOK))
		if dry.State != control.ReplayDone || dry.Matched != 2 || !dry.Request.DryRun {
			t.Errorf("replay --dry-run --json = %+v", dry)
		}
		// Off a terminal, without --yes: refused before anything is sent.
		before := s.operator.Load()
		s.ctl(t, "replay", "--since", "1h", "--channel", "webhook").must(t, exitUsage, "--yes")
		s.ctl(t, "replay", "--since", "1h", "--channel", "webhook", "--yes").must(t, exitOK, "2 events match", "done: 2 events")
		testutil.WaitFor(t, 30*time.Second, "the replayed delivery to reach the receiver", func() bool { return s.operator.Load() > before })
		job := decode[control.Replay](t, s.ctl(t, "replay", "--since", "1h", "--channel", "webhook", "--yes", "--json").must(t, exitOK))
		if job.State != control.ReplayDone || job.Matched != 2 || job.Request.DryRun {
			t.Fatalf("replay --json = %+v", job)
		}
		s.ctl(t, "replay", "status", job.ID).must(t, exitOK, "done", job.ID)
		s.ctl(t, "replay", "cancel", job.ID).must(t, exitOK, "done") // a finished job stays as it ended
		s.ctl(t, "replay", "status", "01JD5M0Q1S8K9W3W6Z2B1R4T7Y").must(t, exitNotFound)
		s.ctl(t, "replay", "--since", "1m", "--tenant", "nobody", "--yes").must(t, exitOK, "nothing to replay")
	})

	admin := map[string]string{"HERALD_URL": s.url, "HERALD_TOKEN": adminToken}
	t.Run("on a terminal", func(t *testing.T) {
		onTerminal(t)
		s.ctlIO(t, admin, "n\n", "replay", "--since", "1h", "--tenant", "acme", "--channel", "webhook").
			must(t, exitAPIError, "Replay 2 events (6 deliveries)? [y/N]", "aborted")
		r := s.ctlIO(t, admin, "y\n", "replay", "--since", "1h", "--tenant", "acme", "--channel", "webhook").
			must(t, exitOK, "Replay 2 events (6 deliveries)? [y/N]", "100%", "(6/6)", "done: 2 events, 6 deliveries")
		if strings.Count(r.out, "?") != 1 {
			t.Errorf("asked more than once:\n%s", r.out)
		}
		testutil.WaitFor(t, 30*time.Second, "the replayed refused delivery to be dead again", func() bool {
			return strings.Contains(s.ctl(t, "dead", "ls", "--tenant", "acme", "--channel", "webhook").out, refusedID)
		})
		s.ctlIO(t, admin, "y\n", "dead", "discard", "--tenant", "acme", "--channel", "webhook").
			must(t, exitOK, "Discard ", "? [y/N]", "discarded ")
	})

	t.Run("Ctrl-C cancels a replay", func(t *testing.T) {
		// Enough events that the replay still runs when the interrupt arrives.
		events := make([]*sdk.Event, 3000)
		for i := range events {
			ev, err := sdk.New("bulk.created", "bulk", map[string]int{"n": i})
			if err != nil {
				t.Fatal(err)
			}
			events[i] = ev
		}
		if _, err := s.pub.PublishBatch(t.Context(), events); err != nil {
			t.Fatal(err)
		}
		interruptAtOnce(t, 1)
		// Off a terminal, Ctrl-C cancels without asking.
		r := s.ctl(t, "replay", "--since", "1h", "--tenant", "bulk", "--yes").must(t, exitAPIError, "3000 events match", "cancelled after")
		id := strings.Fields(strings.SplitAfter(r.errOut, "replay ")[1])[0]
		job := decode[control.Replay](t, s.ctl(t, "replay", "status", id, "--json").must(t, exitOK))
		if job.State != control.ReplayCancelled || job.Matched >= 3000 {
			t.Errorf("after Ctrl-C the job is %+v", job)
		}
		// On a terminal it asks first: no goes on, yes cancels.
		onTerminal(t)
		interruptAtOnce(t, 2)
		r = s.ctlIO(t, admin, "y\nn\ny\n", "replay", "--since", "1h", "--tenant", "bulk").
			must(t, exitAPIError, "Replay 3000 events", "Cancel replay ", "cancelled after")
		if n := strings.Count(r.out, "Cancel replay "); n != 2 {
			t.Errorf("asked %d times whether to cancel, want 2 (no, then yes):\n%s", n, r.out)
		}
	})

	t.Run("history --follow", func(t *testing.T) {
		saved := followEvery
		followEvery = 50 * time.Millisecond
		t.Cleanup(func() { followEvery = saved })
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var out syncBuffer
		done := make(chan int, 1)
		env := map[string]string{"HERALD_URL": s.url, "HERALD_TOKEN": adminToken}
		go func() {
			done <- run(ctx, []string{"history", "--follow", "--tenant", "follow"}, stdio{in: strings.NewReader(""), out: &out, err: &out},
				func(k string) string { return env[k] })
		}()
		ev, err := sdk.New("follow.me", "follow", map[string]string{"k": "v"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.pub.Publish(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, 30*time.Second, "--follow to print the new delivery", func() bool { return strings.Contains(out.String(), ev.ID) })
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("history --follow ended by Ctrl-C exited %d:\n%s", code, out.String())
		}
		if n := strings.Count(out.String(), ev.ID+":webhook"); n != 1 {
			t.Errorf("the delivery is printed %d times, want once:\n%s", n, out.String())
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
