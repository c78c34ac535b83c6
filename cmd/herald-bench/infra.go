package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/broker/embedded"
	"github.com/heraldhq/herald/internal/testutil"
)

// serveNATS runs the embedded NATS server, as the fleet's single-machine default does, until
// its standard input closes (the parent ended, in whatever way).
func serveNATS(dir, addr string, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := embedded.Start(dir, addr, log)
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench nats: %v\n", err)
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	s.Shutdown()
	s.WaitForShutdown()
	return 0
}

// startNATS starts the embedded server in a child process, so that its CPU time and memory
// are its own, and returns its URL.
func startNATS(ctx context.Context, dir string) (*proc, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	p, err := startProc(ctx, "nats", filepath.Join(dir, "nats.log"), nil, self, "-nats-server", "-nats-dir", dir, "-nats-addr", addr)
	if err != nil {
		return nil, "", err
	}
	url := "nats://" + addr
	err = waitFor(ctx, 30*time.Second, "the embedded NATS server", func() bool {
		nc, err := nats.Connect(url)
		if err != nil {
			return false
		}
		nc.Close()
		return true
	})
	if err != nil {
		p.stop()
		return nil, "", err
	}
	return p, url, nil
}

// buildBinaries builds the dispatcher and channel-worker commands into dir.
func buildBinaries(ctx context.Context, dir string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+string(os.PathSeparator), "./cmd/dispatcher", "./cmd/channel-worker")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build (run herald-bench from the module root, or pass -bin): %v\n%s", err, out)
	}
	return nil
}

// proc is a child process whose CPU time and memory are read from /proc.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error
}

// startProc starts a command with env added to the environment (and every other
// NOTIFICATIONS_ variable of this process left out), its output going to logFile. The child's
// standard input is a pipe that closes when this process ends.
func startProc(ctx context.Context, name, logFile string, env []string, path string, args ...string) (*proc, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "NOTIFICATIONS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = f, f
	stdin, err := cmd.StdinPipe()
	if err != nil {
		f.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	_ = ctx
	return p, nil
}

// stop ends the process with SIGTERM (Herald's processes finish what they hold) and waits,
// killing it after 30 seconds.
func (p *proc) stop() {
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// usage is a process's CPU time and memory.
type usage struct {
	CPU time.Duration
	RSS int64 // bytes resident now (VmRSS)
	HWM int64 // peak bytes resident (VmHWM)
}

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// readUsage reads a process's CPU time from /proc/<pid>/stat and its memory from
// /proc/<pid>/status.
func readUsage(pid int) (usage, error) {
	var u usage
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return u, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return u, errors.New("short /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64) // field 14, utime
	st, _ := strconv.ParseInt(f[12], 10, 64) // field 15, stime
	u.CPU = time.Duration(ut+st) * clockTick
	b, err = os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			u.RSS = kb << 10
		case "VmHWM":
			u.HWM = kb << 10
		}
	}
	return u, nil
}

// usage reads the process's usage; a process that has ended reads as zero.
func (p *proc) usage() usage {
	u, _ := readUsage(p.cmd.Process.Pid)
	return u
}

// machineCPU is the busy CPU time of the whole machine so far, from /proc/stat.
func machineCPU() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
			continue
		}
		busy += n
	}
	return time.Duration(busy) * clockTick
}

// cpuModel names the processor, from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// postgresServer returns the database to benchmark against: NOTIFICATIONS_DATABASE_URL, or a
// throwaway server started the way the tests start theirs. stop releases it.
func postgresServer(url string) (_ string, stop func(), err error) {
	if url != "" {
		return url, func() {}, nil
	}
	tb := &harnessTB{}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(harnessFatal)
			if !ok {
				panic(r)
			}
			tb.cleanup()
			err = errors.New(string(f))
		}
	}()
	pg := testutil.StartPostgres(tb)
	return pg.URL("postgres"), tb.cleanup, nil
}

// harnessTB lends the test helpers' throwaway PostgreSQL to this command: it implements the
// few testing.TB methods testutil.StartPostgres calls. The embedded testing.TB is nil: any
// other method would panic, which a change to testutil would show at once.
type harnessTB struct {
	testing.TB
	cleanups []func()
}

type harnessFatal string

func (h *harnessTB) Helper()                   {}
func (h *harnessTB) Name() string              { return "herald-bench" }
func (h *harnessTB) Cleanup(f func())          { h.cleanups = append(h.cleanups, f) }
func (h *harnessTB) Errorf(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (h *harnessTB) Logf(f string, a ...any)   { fmt.Fprintf(os.Stderr, f+"\n", a...) }
func (h *harnessTB) Fatalf(f string, a ...any) { panic(harnessFatal(fmt.Sprintf(f, a...))) }
func (h *harnessTB) Fatal(a ...any)            { panic(harnessFatal(fmt.Sprint(a...))) }

func (h *harnessTB) cleanup() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
}

// resetLedger empties the ledger's tables, if they exist yet, between runs.
func resetLedger(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('notification_attempts') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return nil
	}
	_, err = conn.Exec(ctx, `TRUNCATE notification_deliveries, notification_attempts`)
	return err
}

// ledgerRows counts the rows of the ledger's two tables.
func ledgerRows(ctx context.Context, conn *pgx.Conn) (deliveries, attempts int64, err error) {
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM notification_deliveries), (SELECT count(*) FROM notification_attempts)`).Scan(&deliveries, &attempts)
	return deliveries, attempts, err
}

// waitFor polls cond every 5 ms until it is true, ctx ends, or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, what string, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", timeout, what)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}
