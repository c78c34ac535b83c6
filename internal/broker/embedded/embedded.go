// Package embedded runs NATS in-process: the single-machine fleet's server. It is its own
// package so that only the binaries that own the server (herald, dispatcher) link it.
package embedded

import (
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// MaxPayload is the embedded server's largest message. It is above the dispatcher's
// event limit so that an oversized event reaches the dispatcher and is dead-lettered with its
// reason instead of vanishing at the publisher's socket.
const MaxPayload = 8 << 20

// Start starts an in-process NATS server with JetStream storing its files under
// dataDir/nats, listening on addr (host:port; port 0 picks a free one) so that other
// processes of the fleet and the publisher CLI can reach it. Shut it down with Shutdown and
// WaitForShutdown.
func Start(dataDir, addr string, log *slog.Logger) (*server.Server, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("embedded nats address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("embedded nats port %q: %w", portStr, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "herald-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   filepath.Join(dataDir, "nats"),
		MaxPayload: MaxPayload,
		NoSigs:     true,
		NoLog:      true,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats did not become ready on %s", addr)
	}
	log.Info("embedded nats started", "url", s.ClientURL(), "store_dir", opts.StoreDir)
	return s, nil
}
