// Package fleetproc runs Herald's own binaries, a dispatcher and channel-worker processes, as
// children of a harness: the benchmark (cmd/herald-bench) and the fault suite
// (cmd/herald-chaos). It builds them with the go command, starts them with the harness's
// NOTIFICATIONS_ variables, waits until each consumes from JetStream, and kills, restarts
// and stops them by name ("dispatcher", "worker-1", ...), keeping every start's log.
//
// A process that ends without the fleet having killed or stopped it is what a fault suite must
// notice: Unexpected lists them.
package fleetproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/childproc"
)

// The commands a fleet runs, as import paths (they build from anywhere inside the module).
const (
	DispatcherPackage = "github.com/heraldhq/herald/cmd/dispatcher"
	WorkerPackage     = "github.com/heraldhq/herald/cmd/channel-worker"
)

// Build builds the dispatcher and channel-worker binaries into dir.
func Build(ctx context.Context, dir string) error {
	return childproc.GoBuild(ctx, dir+string(os.PathSeparator), DispatcherPackage, WorkerPackage)
}

// ConsumerLookup is the part of jetstream.JetStream a fleet reads readiness from.
type ConsumerLookup interface {
	Consumer(ctx context.Context, stream, consumer string) (jetstream.Consumer, error)
}

// Config describes a fleet.
type Config struct {
	// Bin is the directory holding the dispatcher and channel-worker binaries (see Build).
	// Required.
	Bin string
	// LogDir receives one log per process start, <LogPrefix><name>-<start>.log. Required.
	LogDir string
	// LogPrefix starts every log's name, to tell runs apart in one LogDir.
	LogPrefix string
	// Env holds the NOTIFICATIONS_ variables of every process.
	Env map[string]string
	// Channels are what the workers deliver (their --channel). Defaults to webhook.
	Channels []string
	// Workers is how many channel-worker processes to run; zero runs the dispatcher alone.
	Workers int
	// JetStream answers the readiness checks: a started process consumes. Required.
	JetStream ConsumerLookup
	// OwnHTTPAddr gives every process its own NOTIFICATIONS_HTTP_ADDR on a free loopback
	// port, for HTTPAddr; otherwise Env's applies to all.
	OwnHTTPAddr bool
	// StartTimeout bounds the wait for the processes to consume. Defaults to 60s.
	StartTimeout time.Duration
	// StopGrace is how long Stop lets a process finish what it holds before SIGKILL.
	// Defaults to 30s.
	StopGrace time.Duration
}

// WithDefaults returns the configuration with every unset optional field at its default.
func (c Config) WithDefaults() Config {
	if len(c.Channels) == 0 {
		c.Channels = []string{"webhook"}
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 60 * time.Second
	}
	if c.StopGrace == 0 {
		c.StopGrace = 30 * time.Second
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Bin == "":
		return errors.New("fleetproc: Config.Bin is required (see Build)")
	case c.LogDir == "":
		return errors.New("fleetproc: Config.LogDir is required")
	case c.JetStream == nil:
		return errors.New("fleetproc: Config.JetStream is required")
	case c.Workers < 0:
		return errors.New("fleetproc: Config.Workers is negative")
	}
	return nil
}

// member is one process of the fleet, across its restarts.
type member struct {
	name   string
	path   string
	args   []string
	addr   string // its own NOTIFICATIONS_HTTP_ADDR, with Config.OwnHTTPAddr
	proc   *childproc.Process
	starts int
	logs   []string
	down   bool // the fleet killed or stopped it: its end is expected
}

// Fleet is a running dispatcher and its workers. Its methods are safe for concurrent use.
type Fleet struct {
	cfg     Config
	mu      sync.Mutex
	members []*member // the dispatcher first, then worker-1, worker-2, ...
}

// Start starts the dispatcher, waits until it consumes EVENTS (it applies the streams, so
// workers started before would race it), then starts the workers and waits until each
// channel's consumer has a pull waiting from every one of them. A process that exits during
// the wait fails Start, naming its log.
func Start(ctx context.Context, cfg Config) (*Fleet, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	f := &Fleet{cfg: cfg}
	f.members = append(f.members, &member{name: "dispatcher", path: filepath.Join(cfg.Bin, "dispatcher")})
	for i := range cfg.Workers {
		f.members = append(f.members, &member{name: "worker-" + strconv.Itoa(i+1), path: filepath.Join(cfg.Bin, "channel-worker"),
			args: []string{"--channel", strings.Join(cfg.Channels, ",")}})
	}
	if err := f.start(f.members[0]); err != nil {
		return nil, err
	}
	if err := f.WaitConsuming(ctx, broker.StreamEvents, broker.ConsumerDispatcher, 1); err != nil {
		f.Stop()
		return nil, err
	}
	for _, m := range f.members[1:] {
		if err := f.start(m); err != nil {
			f.Stop()
			return nil, err
		}
	}
	if cfg.Workers > 0 {
		for _, ch := range cfg.Channels {
			if err := f.WaitConsuming(ctx, broker.StreamDeliveries, "deliver-"+ch, cfg.Workers); err != nil {
				f.Stop()
				return nil, err
			}
		}
	}
	return f, nil
}

// start starts m's next process.
func (f *Fleet) start(m *member) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if m.proc != nil && !m.proc.Exited() {
		return nil
	}
	env := make([]string, 0, len(f.cfg.Env)+1)
	for k, v := range f.cfg.Env {
		if k != "NOTIFICATIONS_HTTP_ADDR" || !f.cfg.OwnHTTPAddr {
			env = append(env, k+"="+v)
		}
	}
	if f.cfg.OwnHTTPAddr {
		port, err := childproc.FreePort()
		if err != nil {
			return err
		}
		m.addr = "127.0.0.1:" + strconv.Itoa(port)
		env = append(env, "NOTIFICATIONS_HTTP_ADDR="+m.addr)
	}
	slices.Sort(env) // a stable environment, whatever the map's order
	m.starts++
	log := filepath.Join(f.cfg.LogDir, fmt.Sprintf("%s%s-%d.log", f.cfg.LogPrefix, m.name, m.starts))
	p, err := childproc.Start(childproc.Spec{Name: m.name, Path: m.path, Args: m.args, Env: env, LogFile: log})
	if err != nil {
		return fmt.Errorf("fleetproc: %w", err)
	}
	m.proc, m.down = p, false
	m.logs = append(m.logs, log)
	return nil
}

// WaitConsuming waits until a consumer has pulls waiting from n clients (a started consume
// loop keeps one waiting), failing early if a process of the fleet exits unexpectedly.
func (f *Fleet) WaitConsuming(ctx context.Context, stream, consumer string, n int) error {
	var gone []string
	err := childproc.WaitEvery(ctx, f.cfg.StartTimeout, 20*time.Millisecond, fmt.Sprintf("%d consumers of %s on %s", n, consumer, stream), func() bool {
		if gone = f.Unexpected(); len(gone) > 0 {
			return true
		}
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		c, err := f.cfg.JetStream.Consumer(rctx, stream, consumer)
		if err != nil {
			return false
		}
		info, err := c.Info(rctx)
		return err == nil && info.NumWaiting >= n
	})
	if len(gone) > 0 {
		return fmt.Errorf("fleetproc: %s (logs in %s)", strings.Join(gone, "; "), f.cfg.LogDir)
	}
	if err != nil {
		return fmt.Errorf("fleetproc: %w", err)
	}
	return nil
}

func (f *Fleet) member(name string) (*member, error) {
	for _, m := range f.members {
		if m.name == name {
			return m, nil
		}
	}
	return nil, fmt.Errorf("fleetproc: no process named %q", name)
}

// Names returns the names of the fleet's processes: dispatcher, worker-1, worker-2, ...
func (f *Fleet) Names() []string {
	out := make([]string, len(f.members))
	for i, m := range f.members {
		out[i] = m.name
	}
	return out
}

// Kill ends the named process with SIGKILL (no draining, no acks) and waits until it has
// ended.
func (f *Fleet) Kill(name string) error {
	m, err := f.member(name)
	if err != nil {
		return err
	}
	f.mu.Lock()
	m.down = true
	p := m.proc
	f.mu.Unlock()
	p.Kill()
	return nil
}

// Restart starts the named process again, once it has ended, with a new log; it does not
// wait until it consumes (see WaitConsuming).
func (f *Fleet) Restart(name string) error {
	m, err := f.member(name)
	if err != nil {
		return err
	}
	return f.start(m)
}

// Process returns the named process's current child.
func (f *Fleet) Process(name string) *childproc.Process {
	m, err := f.member(name)
	if err != nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return m.proc
}

// Procs returns the current child of every process, the dispatcher first.
func (f *Fleet) Procs() []*childproc.Process {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*childproc.Process, len(f.members))
	for i, m := range f.members {
		out[i] = m.proc
	}
	return out
}

// HTTPAddr returns the named process's HTTP address (metrics, health) with
// Config.OwnHTTPAddr, or "".
func (f *Fleet) HTTPAddr(name string) string {
	m, err := f.member(name)
	if err != nil {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return m.addr
}

// LogFiles returns the log of every start of every process.
func (f *Fleet) LogFiles() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.members {
		out = append(out, m.logs...)
	}
	return out
}

// Unexpected describes every process that has ended without the fleet killing or stopping
// it: how it ended and the last line of its log (a Herald process's last word is why).
func (f *Fleet) Unexpected() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.members {
		if m.proc != nil && !m.down && m.proc.Exited() {
			log := m.logs[len(m.logs)-1]
			out = append(out, fmt.Sprintf("%s exited (%v): %s (log %s)", m.name, m.proc.Err(), childproc.Tail(log, 1), log))
		}
	}
	return out
}

// Stop ends the workers, then the dispatcher, with SIGTERM: each finishes and acks the work
// in hand, or is killed after the grace period.
func (f *Fleet) Stop() {
	f.mu.Lock()
	procs := make([]*childproc.Process, 0, len(f.members))
	for i := len(f.members) - 1; i >= 0; i-- {
		m := f.members[i]
		m.down = true
		if m.proc != nil {
			procs = append(procs, m.proc)
		}
	}
	f.mu.Unlock()
	for _, p := range procs {
		p.Stop(f.cfg.StopGrace)
	}
}
