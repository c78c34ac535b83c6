package testutil

import (
	"context"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NATS is an embedded JetStream server for one test.
type NATS struct {
	Server *server.Server
	// Dir is the JetStream store directory; a server restarted on it keeps its streams.
	Dir string
}

// StartNATS starts an embedded JetStream server on a free loopback port with its store in a
// temporary directory, and shuts it down when the test ends.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	return StartNATSIn(t, t.TempDir())
}

// StartNATSIn starts an embedded JetStream server storing its data in dir.
func StartNATSIn(t testing.TB, dir string) *NATS {
	t.Helper()
	opts := &server.Options{
		Host:       "127.0.0.1",
		Port:       -1,
		JetStream:  true,
		StoreDir:   dir,
		MaxPayload: 8 << 20,
		NoSigs:     true,
		NoLog:      true,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("start nats: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready within 10s")
	}
	n := &NATS{Server: s, Dir: dir}
	t.Cleanup(n.Shutdown)
	return n
}

// URL is the client URL of the server.
func (n *NATS) URL() string { return n.Server.ClientURL() }

// Shutdown stops the server; it is safe to call more than once.
func (n *NATS) Shutdown() {
	n.Server.Shutdown()
	n.Server.WaitForShutdown()
}

// Connect opens a client connection closed at the end of the test.
func (n *NATS) Connect(t testing.TB) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(n.URL())
	if err != nil {
		t.Fatalf("connect nats: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// StreamMsgs returns how many messages a stream holds now.
func StreamMsgs(t testing.TB, js jetstream.JetStream, stream string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatalf("stream %s info: %v", stream, err)
	}
	return info.State.Msgs
}

// Cluster is a JetStream cluster of embedded servers for one test.
type Cluster struct {
	Nodes []*NATS
}

// StartCluster starts a JetStream cluster of n embedded servers on loopback, routed to each
// other on fixed free ports, and waits until it has a meta leader. Raft elections take
// seconds: callers wait on conditions, never on sleeps.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freePortNATS(t)
	}
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats", Host: "127.0.0.1:" + strconv.Itoa(p)}
	}
	c := &Cluster{}
	for i := range n {
		dir := t.TempDir()
		opts := &server.Options{
			ServerName: "herald-test-" + strconv.Itoa(i+1),
			Host:       "127.0.0.1",
			Port:       -1,
			JetStream:  true,
			StoreDir:   dir,
			MaxPayload: 8 << 20,
			NoSigs:     true,
			NoLog:      true,
			Cluster: server.ClusterOpts{
				Name: "herald-test",
				Host: "127.0.0.1",
				Port: ports[i],
			},
			Routes: routes,
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("start cluster node %d: %v", i+1, err)
		}
		go s.Start()
		node := &NATS{Server: s, Dir: dir}
		t.Cleanup(node.Shutdown)
		c.Nodes = append(c.Nodes, node)
	}
	for i, node := range c.Nodes {
		if !node.Server.ReadyForConnections(10 * time.Second) {
			t.Fatalf("cluster node %d not ready", i+1)
		}
	}
	WaitFor(t, 30*time.Second, "the cluster to elect a JetStream meta leader", func() bool {
		for _, node := range c.Nodes {
			if node.Server.JetStreamIsLeader() {
				return true
			}
		}
		return false
	})
	return c
}

// URL lists every node's client URL, comma-separated, as NOTIFICATIONS_NATS_URL takes them.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

func freePortNATS(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
