package childproc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"
)

// GoBuild runs go build -o out for the packages, from the current directory. Import paths of
// this module (github.com/heraldhq/herald/cmd/dispatcher) and of its dependencies work from
// anywhere inside the module; out ending in a path separator is a directory that receives one
// binary per command.
func GoBuild(ctx context.Context, out string, pkgs ...string) error {
	args := append([]string{"build", "-o", out}, pkgs...)
	b, err := exec.CommandContext(ctx, "go", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build %s (run from inside the module): %v\n%s", strings.Join(pkgs, " "), err, b)
	}
	return nil
}

// WaitFor polls cond every 5 ms until it is true, ctx ends, or timeout passes; the error names
// what it waited for.
func WaitFor(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	return WaitEvery(ctx, timeout, 5*time.Millisecond, what, cond)
}

// WaitEvery is WaitFor polling every interval, for conditions that cost a request to a
// server.
func WaitEvery(ctx context.Context, timeout, interval time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(interval)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// FreePort asks the kernel for a free loopback TCP port. Another process may take it before
// the caller binds it; callers that cannot retry should bind port 0 instead.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tail returns the last n lines of a file, for error messages about a child that failed.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
