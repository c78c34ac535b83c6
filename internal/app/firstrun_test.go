package app_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/childproc"
	"github.com/heraldhq/herald/internal/testutil"
)

// These tests run the built binaries as a user does on a first run, and check what they
// print and how they exit.

// binDir holds the binaries TestFirstRun built, for its subtests.
var binDir string

func binary(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(binDir, name)
}

// TestFirstRun builds herald, dispatcher and channel-worker once and runs the subtests,
// which share them.
func TestFirstRun(t *testing.T) {
	binDir = t.TempDir()
	err := childproc.GoBuild(t.Context(), binDir+string(os.PathSeparator),
		"github.com/heraldhq/herald/cmd/herald", "github.com/heraldhq/herald/cmd/dispatcher",
		"github.com/heraldhq/herald/cmd/channel-worker")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"HelpSaysWhatRunsAndExitsZero", testHelpSaysWhatRunsAndExitsZero},
		{"UnknownArgumentsExitTwoWithUsage", testUnknownArgumentsExitTwoWithUsage},
		{"EnvListsEveryVariable", testEnvListsEveryVariable},
		{"InvalidWebhookURLShowsWhatIsWrong", testInvalidWebhookURLShowsWhatIsWrong},
		{"InvalidWebhookSecretIsOneSentence", testInvalidWebhookSecretIsOneSentence},
		{"DestinationRefusedByItsChannelExitsTwoOnce", testDestinationRefusedByItsChannelExitsTwoOnce},
		{"BadDatabaseURLIsNamedBeforeAnythingStarts", testBadDatabaseURLIsNamedBeforeAnythingStarts},
		{"UnreachableDatabaseHonoursSIGTERM", testUnreachableDatabaseHonoursSIGTERM},
		{"WorkerForAnUnknownChannelFailsBeforeNATS", testWorkerForAnUnknownChannelFailsBeforeNATS},
		{"WorkerForAChannelWithoutDestination", testWorkerForAChannelWithoutDestination},
		{"MigrateSaysWhatItApplied", testMigrateSaysWhatItApplied},
	} {
		t.Run(sub.name, sub.f)
	}
}

type run struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// runBinary runs name with args and only the given variables (plus a data directory, free
// ports and PATH), and waits at most timeout.
func runBinary(t *testing.T, name string, env map[string]string, timeout time.Duration, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t, name), args...)
	cmd.Env = baseEnv(t, env)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := run{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %v did not exit within %s; stderr:\n%s", name, args, timeout, r.stderr)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return r
}

func baseEnv(t *testing.T, env map[string]string) []string {
	out := []string{"PATH=" + os.Getenv("PATH"), "NOTIFICATIONS_DATA_DIR=" + t.TempDir(),
		"NOTIFICATIONS_HTTP_ADDR=127.0.0.1:0", "NOTIFICATIONS_EMBEDDED_NATS_ADDR=127.0.0.1:0", "NOTIFICATIONS_LOG_FORMAT=json"}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func testHelpSaysWhatRunsAndExitsZero(t *testing.T) {
	for _, name := range []string{"herald", "dispatcher", "channel-worker"} {
		for _, flag := range []string{"--help", "-h"} {
			r := runBinary(t, name, nil, time.Minute, flag)
			if r.code != 0 {
				t.Errorf("%s %s exited %d; stderr:\n%s", name, flag, r.code, r.stderr)
			}
			for _, want := range []string{"Usage:", name + " env", "NOTIFICATIONS_HTTP_ADDR", "Exit codes"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("%s %s does not say %q:\n%s", name, flag, want, r.stdout)
				}
			}
			takesLedger := name != "channel-worker"
			if strings.Contains(r.stdout, name+" migrate") != takesLedger || strings.Contains(r.stdout, name+" secrets rewrap") != takesLedger {
				t.Errorf("%s %s does not list its subcommands:\n%s", name, flag, r.stdout)
			}
		}
	}
	if r := runBinary(t, "channel-worker", nil, time.Minute, "--help"); !strings.Contains(r.stdout, "--channel") || !strings.Contains(r.stdout, "pagerduty") {
		t.Errorf("channel-worker --help names neither --channel nor the channels:\n%s", r.stdout)
	}
}

func testUnknownArgumentsExitTwoWithUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{{"herald", []string{"serve"}}, {"dispatcher", []string{"migrate", "now"}}, {"channel-worker", []string{"--chanel", "webhook"}}, {"channel-worker", nil}} {
		r := runBinary(t, c.name, nil, time.Minute, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, "Usage:") {
			t.Errorf("%s %v exited %d, stderr:\n%s\nwant 2 and the usage", c.name, c.args, r.code, r.stderr)
		}
	}
}

func testEnvListsEveryVariable(t *testing.T) {
	r := runBinary(t, "herald", nil, time.Minute, "env")
	if r.code != 0 {
		t.Fatalf("herald env exited %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"NOTIFICATIONS_DATABASE_URL", "NOTIFICATIONS_WEBHOOK_SECRET", "NOTIFICATIONS_TELEGRAM_CHAT_ID", "NOTIFICATIONS_HTTP_ADDR                   :8080"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("herald env lacks %q", want)
		}
	}
	if w := runBinary(t, "channel-worker", nil, time.Minute, "env"); !strings.Contains(w.stdout, ":8081") {
		t.Errorf("channel-worker env does not show its own HTTP default:\n%s", w.stdout)
	}
}

// configurationError runs herald with env and checks that it stops at once with exit code
// 2 and one line on stderr naming the variable, which it returns.
func configurationError(t *testing.T, name string, env map[string]string, args ...string) string {
	t.Helper()
	r := runBinary(t, name, env, time.Minute, args...)
	if r.code != 2 {
		t.Fatalf("exit code %d, want 2; stderr:\n%s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 {
		t.Errorf("stderr has %d lines, want one:\n%s", len(lines), r.stderr)
	}
	if strings.Contains(r.stderr, "nats") || strings.Contains(r.stderr, "started") {
		t.Errorf("the process started something before it found the mistake:\n%s", r.stderr)
	}
	return lines[0]
}

func testInvalidWebhookURLShowsWhatIsWrong(t *testing.T) {
	line := configurationError(t, "herald", map[string]string{
		"NOTIFICATIONS_WEBHOOK_ENABLED": "true",
		"NOTIFICATIONS_WEBHOOK_URL":     "hooks.example.com/in/T0/tok3nsecret",
		"NOTIFICATIONS_WEBHOOK_SECRET":  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	})
	want := "herald: invalid configuration: NOTIFICATIONS_WEBHOOK_URL: hooks.example.com/in/T0/*** has no scheme: write the whole URL, starting with https:// (or http://)"
	if line != want {
		t.Errorf("got\n %s\nwant\n %s", line, want)
	}
}

func testInvalidWebhookSecretIsOneSentence(t *testing.T) {
	line := configurationError(t, "herald", map[string]string{
		"NOTIFICATIONS_WEBHOOK_ENABLED": "true",
		"NOTIFICATIONS_WEBHOOK_URL":     "https://example.com/hook",
		"NOTIFICATIONS_WEBHOOK_SECRET":  "whsec_n0t-base64!",
	})
	want := `herald: invalid configuration: NOTIFICATIONS_WEBHOOK_SECRET: invalid webhook secret: secret 1 of 1 is not standard base64 after "whsec_"`
	if line != want {
		t.Errorf("got\n %s\nwant\n %s", line, want)
	}
}

func testDestinationRefusedByItsChannelExitsTwoOnce(t *testing.T) {
	// One of NOTIFICATIONS_DESTINATIONS: the message names its id.
	line := configurationError(t, "herald", map[string]string{
		"NOTIFICATIONS_DESTINATIONS": `[{"id":"audit","channel":"webhook","config":{"url":"https://example.com/h","secret":"whsec_n0t-base64!"}}]`,
	})
	want := `herald: invalid configuration: NOTIFICATIONS_DESTINATIONS: destination "audit": invalid webhook secret: secret 1 of 1 is not standard base64 after "whsec_"`
	if line != want {
		t.Errorf("got\n %s\nwant\n %s", line, want)
	}
}

func testBadDatabaseURLIsNamedBeforeAnythingStarts(t *testing.T) {
	line := configurationError(t, "dispatcher", map[string]string{"NOTIFICATIONS_DATABASE_URL": "postgres://herald:pa55word@db:54x2/herald"})
	if !strings.Contains(line, "NOTIFICATIONS_DATABASE_URL: is not a valid PostgreSQL URL") || strings.Contains(line, "pa55word") {
		t.Errorf("got %s", line)
	}
}

// TestUnreachableDatabaseHonoursSIGTERM points the dispatcher at a server that accepts
// connections and never answers, as a firewall or a hung host does: SIGTERM must stop the
// start at once, and without it the start gives up within its bound.
func testUnreachableDatabaseHonoursSIGTERM(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int32
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			held = append(held, c)
		}
	}()
	url := "postgres://herald:pa55word@" + ln.Addr().String() + "/herald?sslmode=disable"

	cmd := exec.Command(binary(t, "dispatcher"))
	cmd.Env = baseEnv(t, map[string]string{"NOTIFICATIONS_DATABASE_URL": url})
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the dispatcher to try the database", func() bool { return accepted.Load() > 0 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("the dispatcher ignored SIGTERM while waiting for the database; stderr:\n%s", errb.String())
	}
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(errb.String(), "stopped by a signal") {
		t.Errorf("exit %d, stderr:\n%s", cmd.ProcessState.ExitCode(), errb.String())
	}
	if strings.Contains(errb.String(), "embedded nats started") {
		t.Errorf("NATS started before the database answered:\n%s", errb.String())
	}

	// Without a signal: the bound, for a start and for migrate.
	for _, args := range [][]string{nil, {"migrate"}} {
		r := runBinary(t, "dispatcher", map[string]string{"NOTIFICATIONS_DATABASE_URL": url}, time.Minute, args...)
		if r.code != 1 || !strings.Contains(r.stderr, "NOTIFICATIONS_DATABASE_URL: the database did not answer within") || r.took > 20*time.Second {
			t.Errorf("dispatcher %v: exit %d after %s, stderr:\n%s", args, r.code, r.took, r.stderr)
		}
		if strings.Contains(r.stderr, "pa55word") {
			t.Errorf("stderr shows the password:\n%s", r.stderr)
		}
	}
}

func testWorkerForAnUnknownChannelFailsBeforeNATS(t *testing.T) {
	line := configurationError(t, "channel-worker", nil, "--channel", "pagerduty,smoke-signals")
	if !strings.Contains(line, `"smoke-signals" is not a channel of Herald`) {
		t.Errorf("got %s", line)
	}
}

func testWorkerForAChannelWithoutDestination(t *testing.T) {
	// Tenant destinations off (a database and no key): nothing could ever reach the worker.
	line := configurationError(t, "channel-worker", map[string]string{"NOTIFICATIONS_DATABASE_URL": "postgres://herald@127.0.0.1:1/herald"}, "--channel", "pagerduty")
	if !strings.Contains(line, "NOTIFICATIONS_PAGERDUTY_ENABLED=true") {
		t.Errorf("got %s", line)
	}
	// Tenant destinations on (the embedded default's key file): a loud warning, once, and
	// the worker goes on (to a NATS server that is not there).
	r := runBinary(t, "channel-worker", map[string]string{"NOTIFICATIONS_NATS_URL": "nats://127.0.0.1:1"}, time.Minute, "--channel", "pagerduty")
	if n := strings.Count(r.stderr, "has no operator destination"); n != 1 {
		t.Errorf("the warning appears %d times, want once:\n%s", n, r.stderr)
	}
	if r.code != 1 || !strings.Contains(r.stderr, "NOTIFICATIONS_NATS_URL") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func testMigrateSaysWhatItApplied(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
	}{
		{"sqlite", map[string]string{}},
		{"postgres", map[string]string{"NOTIFICATIONS_DATABASE_URL": testutil.NewDatabase(t)}},
	} {
		dir := t.TempDir()
		c.env["NOTIFICATIONS_DATA_DIR"] = dir
		first := runBinary(t, "dispatcher", c.env, 2*time.Minute, "migrate")
		if first.code != 0 || !strings.Contains(first.stdout, "applied ") || !strings.Contains(first.stdout, "00001_init") {
			t.Errorf("%s: first migrate exited %d, printed:\n%s%s", c.name, first.code, first.stdout, first.stderr)
		}
		if strings.Contains(first.stdout, "up to date") {
			t.Errorf("%s: first migrate says the schema was up to date:\n%s", c.name, first.stdout)
		}
		second := runBinary(t, "dispatcher", c.env, 2*time.Minute, "migrate")
		if second.code != 0 || !strings.Contains(second.stdout, "up to date, nothing to apply") {
			t.Errorf("%s: second migrate exited %d, printed:\n%s%s", c.name, second.code, second.stdout, second.stderr)
		}
	}
}
