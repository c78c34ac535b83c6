package childproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// helperEnv makes the test binary act as a child: it prints its environment's CHILD_ and
// NOTIFICATIONS_ variables and "ready", then waits. Its value is the mode: "term" exits 3 on
// SIGTERM, "stdin" exits 4 when its standard input ends, "ignore" waits for SIGKILL.
const helperEnv = "CHILDPROC_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		helper(os.Getenv(helperEnv))
		return
	}
	goleak.VerifyTestMain(m)
}

func helper(mode string) {
	signal.Ignore(syscall.SIGTERM)
	term := make(chan os.Signal, 1)
	if mode == "term" {
		signal.Notify(term, syscall.SIGTERM)
	}
	eof := make(chan struct{})
	if mode == "stdin" {
		go func() {
			_, _ = os.Stdin.Read(make([]byte, 1))
			close(eof)
		}()
	}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CHILD_") || strings.HasPrefix(kv, "NOTIFICATIONS_") {
			fmt.Println(kv)
		}
	}
	fmt.Println("ready")
	select {
	case <-term:
		os.Exit(3)
	case <-eof:
		os.Exit(4)
	}
}

// start runs the test binary as a helper child, logging to a file it returns.
func start(t *testing.T, mode string, env ...string) (*Process, string) {
	t.Helper()
	t.Setenv("NOTIFICATIONS_FROM_PARENT", "leaks")
	log := filepath.Join(t.TempDir(), "child.log")
	p, err := Start(Spec{Name: "helper", Path: os.Args[0], Env: append(env, helperEnv+"="+mode), LogFile: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	waitLog(t, log, "ready")
	return p, log
}

func waitLog(t *testing.T, path, want string) string {
	t.Helper()
	var got string
	err := WaitFor(context.Background(), 30*time.Second, want+" in the child's log", func() bool {
		b, _ := os.ReadFile(path)
		got = string(b)
		return strings.Contains(got, want)
	})
	if err != nil {
		t.Fatalf("%v; log:\n%s", err, got)
	}
	return got
}

func TestStartPassesOnlyItsOwnNotificationsVariables(t *testing.T) {
	p, log := start(t, "term", "CHILD_A=1", "NOTIFICATIONS_OWN=yes")
	out := waitLog(t, log, "ready")
	if !strings.Contains(out, "CHILD_A=1") || !strings.Contains(out, "NOTIFICATIONS_OWN=yes") {
		t.Errorf("the child lacks its variables:\n%s", out)
	}
	if strings.Contains(out, "NOTIFICATIONS_FROM_PARENT") {
		t.Errorf("the parent's NOTIFICATIONS_ variable reached the child:\n%s", out)
	}
	if p.Exited() || p.Err() != nil {
		t.Errorf("running child: exited %v, err %v", p.Exited(), p.Err())
	}
	if u := p.Usage(); u.RSS <= 0 {
		t.Errorf("usage of a running child = %+v", u)
	}
}

func TestStopSendsSIGTERM(t *testing.T) {
	p, _ := start(t, "term")
	p.Stop(30 * time.Second)
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.ExitCode() != 3 {
		t.Errorf("after Stop: %v, want exit status 3 (the helper's SIGTERM exit)", p.Err())
	}
	if u := p.Usage(); u != (Usage{}) {
		t.Errorf("usage of an ended child = %+v, want zero", u)
	}
}

func TestStopKillsAfterGrace(t *testing.T) {
	p, _ := start(t, "ignore")
	p.Stop(100 * time.Millisecond)
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("after Stop of a child ignoring SIGTERM: %v, want killed", p.Err())
	}
}

func TestStopClosesStandardInput(t *testing.T) {
	p, _ := start(t, "stdin")
	p.Stop(30 * time.Second)
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.ExitCode() != 4 {
		t.Errorf("after Stop: %v, want exit status 4 (the helper's end-of-input exit)", p.Err())
	}
}

func TestKill(t *testing.T) {
	p, _ := start(t, "ignore")
	p.Kill()
	if !p.Exited() {
		t.Fatal("Kill returned before the child ended")
	}
	var exit *exec.ExitError
	if !errors.As(p.Err(), &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("after Kill: %v, want killed by SIGKILL", p.Err())
	}
	p.Kill() // an ended child: nothing happens
}

func TestStartRefusesIncompleteSpecs(t *testing.T) {
	if _, err := Start(Spec{Path: "x"}); !errors.Is(err, ErrNoName) {
		t.Errorf("no name: %v", err)
	}
	if _, err := Start(Spec{Name: "x"}); !errors.Is(err, ErrNoPath) {
		t.Errorf("no path: %v", err)
	}
	if _, err := Start(Spec{Name: "x", Path: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("a missing executable started")
	}
}

func TestReadUsage(t *testing.T) {
	u, err := ReadUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.RSS <= 0 || u.HWM < u.RSS {
		t.Errorf("usage = %+v: want a resident size and a peak at least as large", u)
	}
	if MachineCPU() <= 0 {
		t.Error("machine CPU time is zero")
	}
	if CPUModel() == "" {
		t.Error("no CPU model")
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	if err := WaitFor(context.Background(), time.Minute, "three polls", func() bool { n++; return n == 3 }); err != nil {
		t.Fatal(err)
	}
	err := WaitFor(context.Background(), 20*time.Millisecond, "never", func() bool { return false })
	if err == nil || !strings.Contains(err.Error(), "never") {
		t.Errorf("WaitFor on a false condition = %v, want a timeout naming it", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := WaitFor(ctx, time.Minute, "cancelled", func() bool { return false }); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor with a cancelled context = %v", err)
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil || p <= 0 {
		t.Fatalf("FreePort = %d, %v", p, err)
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := Tail(path, 2); got != "b\nc" {
		t.Errorf("Tail = %q, want the last two lines", got)
	}
	if got := Tail(filepath.Join(t.TempDir(), "missing"), 2); !strings.HasPrefix(got, "(") {
		t.Errorf("Tail of a missing file = %q, want the error in parentheses", got)
	}
}
