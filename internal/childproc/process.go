package childproc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec describes a child process.
type Spec struct {
	// Name names the process in errors and reports. Required.
	Name string
	// Path is the executable. Required.
	Path string
	// Args are its arguments, without the program name.
	Args []string
	// Env is added to this process's environment, from which every NOTIFICATIONS_ variable
	// has been removed first.
	Env []string
	// LogFile receives the child's standard output and error; it is created or truncated.
	// Empty discards them.
	LogFile string
}

// Process is a running (or ended) child. Its methods are safe for concurrent use.
type Process struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}

	mu  sync.Mutex
	err error // what Wait returned, once done is closed
}

// ErrNoName and ErrNoPath report an incomplete Spec.
var (
	ErrNoName = errors.New("childproc: spec has no name")
	ErrNoPath = errors.New("childproc: spec has no path")
)

// Start starts the process described by spec. The child's standard input is a pipe that
// closes when Stop is called or this process ends, so that a child may watch it to learn
// that its parent is gone.
func Start(spec Spec) (*Process, error) {
	switch {
	case spec.Name == "":
		return nil, ErrNoName
	case spec.Path == "":
		return nil, ErrNoPath
	}
	out := io.Discard
	var logFile *os.File
	if spec.LogFile != "" {
		f, err := os.Create(spec.LogFile)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", spec.Name, err)
		}
		out, logFile = f, f
	}
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = childEnv(os.Environ(), spec.Env)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = dieWithParent()
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		if logFile != nil {
			logFile.Close()
		}
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	p := &Process{name: spec.Name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		if logFile != nil {
			logFile.Close()
		}
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// childEnv is base without its NOTIFICATIONS_ variables, then extra.
func childEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		if !strings.HasPrefix(kv, "NOTIFICATIONS_") {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// Name returns the name the process was started with.
func (p *Process) Name() string { return p.name }

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err returns how the process ended (nil for a zero exit status), or nil while it runs.
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Kill ends the process with SIGKILL, with no chance to drain or acknowledge anything, and
// waits until it has ended. Killing an ended process does nothing.
func (p *Process) Kill() {
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to end with SIGTERM (Herald's processes and nats-server finish what
// they hold) and waits, killing it if it has not ended after grace.
func (p *Process) Stop(grace time.Duration) {
	_ = p.stdin.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.Kill()
	}
}

// Usage reads the process's CPU time and memory; an ended process reads as zero.
func (p *Process) Usage() Usage {
	u, _ := ReadUsage(p.cmd.Process.Pid)
	return u
}
