package natsproc

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/childproc"
)

// ErrNoLeader is returned when a stream or consumer has no leader at the moment asked.
var ErrNoLeader = errors.New("natsproc: no leader")

// Cluster is a JetStream cluster of nats-server processes on loopback, every node routed to
// every other on fixed ports.
type Cluster struct {
	// Nodes are the cluster's servers, named <ClusterName>-1 to -n.
	Nodes []*Server
}

// StartCluster starts an n-node JetStream cluster (n is at least 1; JetStream needs 3 for
// replicated streams to survive a node) and waits until every node accepts connections and
// the cluster has elected its JetStream meta leader.
func StartCluster(ctx context.Context, cfg Config, n int) (*Cluster, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if n < 1 {
		return nil, fmt.Errorf("natsproc: a cluster of %d nodes", n)
	}
	var lastErr error
	// A free port can be taken between choosing and binding it: choose again a few times.
	for range 3 {
		c, err := startCluster(ctx, cfg, n)
		if err == nil {
			return c, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func startCluster(ctx context.Context, cfg Config, n int) (*Cluster, error) {
	ports := make([]int, 2*n) // client ports, then cluster ports
	for i := range ports {
		p, err := childproc.FreePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	routes := make([]string, n)
	for i := range n {
		routes[i] = "nats-route://" + loopback(ports[n+i])
	}
	c := &Cluster{}
	for i := range n {
		s, err := newServer(cfg, cfg.ClusterName+"-"+strconv.Itoa(i+1), ports[i], ports[n+i], routes)
		if err != nil {
			return nil, err
		}
		c.Nodes = append(c.Nodes, s)
	}
	// Start every node before waiting on any: a node alone cannot elect a leader.
	for _, s := range c.Nodes {
		if err := s.Start(ctx); err != nil {
			c.Kill()
			return nil, err
		}
	}
	if err := c.WaitReady(ctx, cfg.ReadyTimeout); err != nil {
		c.Kill()
		return nil, err
	}
	return c, nil
}

// URL lists every node's client URL, comma-separated, as NOTIFICATIONS_NATS_URL and
// nats.Connect take them.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

// Node returns the node of that server name, or nil.
func (c *Cluster) Node(name string) *Server {
	for _, s := range c.Nodes {
		if s.name == name {
			return s
		}
	}
	return nil
}

// Stop shuts every node down gracefully and waits.
func (c *Cluster) Stop() {
	for _, s := range c.Nodes {
		s.Stop()
	}
}

// Kill ends every node with SIGKILL and waits.
func (c *Cluster) Kill() {
	for _, s := range c.Nodes {
		s.Kill()
	}
}

// WaitReady waits until every running node answers JetStream API requests, which it does
// only once the cluster has a JetStream meta leader.
func (c *Cluster) WaitReady(ctx context.Context, timeout time.Duration) error {
	for _, s := range c.Nodes {
		if !s.Running() {
			continue
		}
		err := childproc.WaitEvery(ctx, timeout, pollEvery, s.name+" to answer JetStream requests", func() bool {
			return jetStreamAnswers(ctx, s.URL())
		})
		if err != nil {
			return fmt.Errorf("natsproc: %w", err)
		}
	}
	return nil
}

func jetStreamAnswers(ctx context.Context, url string) bool {
	nc, err := nats.Connect(url, nats.Timeout(time.Second), nats.NoReconnect())
	if err != nil {
		return false
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err == nil
}

// StreamLookup is the part of jetstream.JetStream the cluster asks about leaders.
type StreamLookup interface {
	Stream(ctx context.Context, name string) (jetstream.Stream, error)
}

// pollEvery spaces the requests of the Wait methods: a stream's leader changes in seconds.
const pollEvery = 50 * time.Millisecond

// requestTimeout bounds one JetStream API request: during an election a request can wait for
// the whole client timeout, and a Wait method would rather ask again.
const requestTimeout = 2 * time.Second

// streamCluster returns the Raft group of a stream as JetStream reports it.
func streamCluster(ctx context.Context, js StreamLookup, stream string) (*jetstream.ClusterInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	return s.CachedInfo().Cluster, nil // Stream fetched it
}

// consumerCluster returns the Raft group of a consumer as JetStream reports it.
func consumerCluster(ctx context.Context, js StreamLookup, stream, consumer string) (*jetstream.ClusterInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, err
	}
	cons, err := s.Consumer(ctx, consumer)
	if err != nil {
		return nil, err
	}
	return cons.CachedInfo().Cluster, nil // Consumer fetched it
}

// leaderNode maps a Raft group's leader to the node of that name.
func (c *Cluster) leaderNode(ci *jetstream.ClusterInfo, what string) (*Server, error) {
	if ci == nil || ci.Leader == "" {
		return nil, fmt.Errorf("%w for %s", ErrNoLeader, what)
	}
	s := c.Node(ci.Leader)
	if s == nil {
		return nil, fmt.Errorf("natsproc: %s is led by %q, not a node of this cluster", what, ci.Leader)
	}
	return s, nil
}

// StreamLeader returns the node that leads a stream now, as the JetStream API reports it.
func (c *Cluster) StreamLeader(ctx context.Context, js StreamLookup, stream string) (*Server, error) {
	ci, err := streamCluster(ctx, js, stream)
	if err != nil {
		return nil, fmt.Errorf("natsproc: stream %s: %w", stream, err)
	}
	return c.leaderNode(ci, "stream "+stream)
}

// ConsumerLeader returns the node that leads a durable consumer now.
func (c *Cluster) ConsumerLeader(ctx context.Context, js StreamLookup, stream, consumer string) (*Server, error) {
	ci, err := consumerCluster(ctx, js, stream, consumer)
	if err != nil {
		return nil, fmt.Errorf("natsproc: consumer %s on %s: %w", consumer, stream, err)
	}
	return c.leaderNode(ci, "consumer "+consumer+" on "+stream)
}

// WaitStreamLeader waits until the stream has a leader other than the node named not (empty
// accepts any), as after killing its leader, and returns it.
func (c *Cluster) WaitStreamLeader(ctx context.Context, js StreamLookup, stream, not string, timeout time.Duration) (*Server, error) {
	var leader *Server
	err := childproc.WaitEvery(ctx, timeout, pollEvery, "a new leader of stream "+stream, func() bool {
		s, err := c.StreamLeader(ctx, js, stream)
		if err != nil || s.name == not {
			return false
		}
		leader = s
		return true
	})
	if err != nil {
		return nil, fmt.Errorf("natsproc: %w", err)
	}
	return leader, nil
}

// WaitStreamCurrent waits until the stream has a leader and every one of its replicas is
// online and caught up with it, as after restarting a killed node.
func (c *Cluster) WaitStreamCurrent(ctx context.Context, js StreamLookup, stream string, timeout time.Duration) error {
	err := childproc.WaitEvery(ctx, timeout, pollEvery, "every replica of stream "+stream+" to be current", func() bool {
		ci, err := streamCluster(ctx, js, stream)
		return err == nil && allCurrent(ci)
	})
	if err != nil {
		return fmt.Errorf("natsproc: %w", err)
	}
	return nil
}

// allCurrent reports whether a Raft group has a leader and only online, current followers.
func allCurrent(ci *jetstream.ClusterInfo) bool {
	if ci == nil || ci.Leader == "" {
		return false
	}
	for _, p := range ci.Replicas {
		if p == nil || !p.Current || p.Offline {
			return false
		}
	}
	return true
}
