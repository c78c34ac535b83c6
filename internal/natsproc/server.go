package natsproc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/childproc"
)

// Config describes the servers to run. The zero values of the optional fields are replaced
// by the defaults documented on each.
type Config struct {
	// Binary is the nats-server executable (see Build). Required.
	Binary string
	// Dir is where each server gets its own directory, named after the server, holding its
	// configuration (nats.conf), JetStream store (store/) and logs (one per start:
	// server-1.log, server-2.log, ...). Required.
	Dir string
	// Name is the server name of a single server. A cluster's nodes are named after the
	// cluster: <ClusterName>-1, <ClusterName>-2, ... Defaults to "nats".
	Name string
	// ClusterName names the cluster. Defaults to "herald".
	ClusterName string
	// MaxPayload is the largest message the servers accept, in bytes. Defaults to 8 MiB.
	MaxPayload int64
	// ReadyTimeout bounds the wait for a server to accept connections and for a cluster to
	// elect its JetStream meta leader. Defaults to 30s.
	ReadyTimeout time.Duration
	// Extra is appended to every server's configuration file: an authorization block, for
	// a server whose users are Herald's roles (see package natsauth). A server that refuses
	// connections without credentials is ready when it answers with its refusal; the
	// Cluster's waits connect without credentials and need a server that takes them.
	Extra string
}

// WithDefaults returns the configuration with every unset optional field at its default.
func (c Config) WithDefaults() Config {
	if c.Name == "" {
		c.Name = "nats"
	}
	if c.ClusterName == "" {
		c.ClusterName = "herald"
	}
	if c.MaxPayload == 0 {
		c.MaxPayload = 8 << 20
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 30 * time.Second
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Binary == "":
		return errors.New("natsproc: Config.Binary is required (see Build)")
	case c.Dir == "":
		return errors.New("natsproc: Config.Dir is required")
	case c.MaxPayload < 0:
		return errors.New("natsproc: Config.MaxPayload is negative")
	}
	return nil
}

// Server is one nats-server process with JetStream, on a fixed loopback port. Its methods are
// safe for concurrent use.
type Server struct {
	name        string
	binary      string
	dir         string
	port        int
	clusterPort int // 0 for a server outside a cluster
	ready       time.Duration

	mu     sync.Mutex
	proc   *childproc.Process
	starts int
}

// StartServer starts a single JetStream server on a free loopback port and waits until it
// accepts connections.
func StartServer(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	var lastErr error
	// A free port can be taken between choosing and binding it: choose again a few times.
	for range 3 {
		port, err := childproc.FreePort()
		if err != nil {
			return nil, err
		}
		s, err := newServer(cfg, cfg.Name, port, 0, nil)
		if err != nil {
			return nil, err
		}
		if lastErr = s.Start(ctx); lastErr == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// newServer writes a server's configuration into its directory.
func newServer(cfg Config, name string, port, clusterPort int, routes []string) (*Server, error) {
	s := &Server{name: name, binary: cfg.Binary, dir: filepath.Join(cfg.Dir, name), port: port,
		clusterPort: clusterPort, ready: cfg.ReadyTimeout}
	if err := os.MkdirAll(filepath.Join(s.dir, "store"), 0o755); err != nil {
		return nil, fmt.Errorf("natsproc: %w", err)
	}
	conf := serverConf(s.name, port, cfg.MaxPayload, filepath.Join(s.dir, "store"), cfg.ClusterName, clusterPort, routes) + cfg.Extra
	if err := os.WriteFile(s.confFile(), []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("natsproc: %w", err)
	}
	return s, nil
}

// serverConf renders nats-server's configuration file. Strings are quoted with strconv, whose
// escapes the configuration format shares with JSON for the paths and names used here.
func serverConf(name string, port int, maxPayload int64, store, cluster string, clusterPort int, routes []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %s\n", strconv.Quote(name))
	fmt.Fprintf(&b, "listen: %s\n", strconv.Quote(loopback(port)))
	fmt.Fprintf(&b, "max_payload: %d\n", maxPayload)
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %s\n}\n", strconv.Quote(store))
	if clusterPort != 0 {
		quoted := make([]string, len(routes))
		for i, r := range routes {
			quoted[i] = strconv.Quote(r)
		}
		fmt.Fprintf(&b, "cluster {\n  name: %s\n  listen: %s\n  routes: [%s]\n}\n",
			strconv.Quote(cluster), strconv.Quote(loopback(clusterPort)), strings.Join(quoted, ", "))
	}
	return b.String()
}

func loopback(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func (s *Server) confFile() string { return filepath.Join(s.dir, "nats.conf") }

// Name returns the server name, as JetStream reports it for stream and consumer leaders.
func (s *Server) Name() string { return s.name }

// URL returns the server's client URL; it stays the same across restarts.
func (s *Server) URL() string { return "nats://" + loopback(s.port) }

// Dir returns the server's directory: its configuration, store and logs.
func (s *Server) Dir() string { return s.dir }

// LogFile returns the log of the server's latest start.
func (s *Server) LogFile() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logFile(max(s.starts, 1))
}

func (s *Server) logFile(n int) string {
	return filepath.Join(s.dir, "server-"+strconv.Itoa(n)+".log")
}

// Running reports whether the server's process is running.
func (s *Server) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc != nil && !s.proc.Exited()
}

// Pid returns the id of the server's process, or 0 when it is not running.
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil || s.proc.Exited() {
		return 0
	}
	return s.proc.Pid()
}

// Start starts the server, or starts it again after Kill or Stop on the same ports, store and
// configuration, and waits until it accepts connections. Starting a running server does
// nothing. A cluster node may accept connections before its cluster has a JetStream leader:
// see Cluster.WaitReady and the other Wait methods.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.proc != nil && !s.proc.Exited() {
		s.mu.Unlock()
		return nil
	}
	s.starts++
	log := s.logFile(s.starts)
	p, err := childproc.Start(childproc.Spec{Name: s.name, Path: s.binary, Args: []string{"-c", s.confFile()}, LogFile: log})
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("natsproc: %w", err)
	}
	s.proc = p
	s.mu.Unlock()

	err = childproc.WaitEvery(ctx, s.ready, 20*time.Millisecond, s.name+" to accept connections", func() bool {
		if p.Exited() {
			return true
		}
		nc, err := nats.Connect(s.URL(), nats.Timeout(time.Second), nats.NoReconnect())
		if errors.Is(err, nats.ErrAuthorization) {
			return true // it answers: it wants credentials (Config.Extra)
		}
		if err != nil {
			return false
		}
		nc.Close()
		return true
	})
	if err == nil && p.Exited() {
		err = fmt.Errorf("exited at start (%v)", p.Err())
	}
	if err != nil {
		p.Kill()
		return fmt.Errorf("natsproc: start %s: %w; log %s:\n%s", s.name, err, log, childproc.Tail(log, 15))
	}
	return nil
}

// Kill ends the server with SIGKILL, as a crash or a pulled plug would: no leadership hand-over,
// nothing flushed. It waits until the process has ended; killing a stopped server does
// nothing.
func (s *Server) Kill() {
	if p := s.current(); p != nil {
		p.Kill()
	}
}

// Stop shuts the server down gracefully with SIGTERM (SIGKILL after 30 seconds) and waits.
func (s *Server) Stop() {
	if p := s.current(); p != nil {
		p.Stop(30 * time.Second)
	}
}

func (s *Server) current() *childproc.Process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}
