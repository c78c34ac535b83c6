package testutil

import (
	"context"
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
