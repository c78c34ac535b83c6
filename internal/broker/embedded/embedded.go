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

	"github.com/heraldhq/herald/internal/natsauth"
)

// MaxPayload is the embedded server's largest message. It is above the dispatcher's
// event limit so that an oversized event reaches the dispatcher and is dead-lettered with its
// reason instead of vanishing at the publisher's socket.
const MaxPayload = 8 << 20

// DefaultMaxStorage is the embedded server's JetStream storage limit unless
// NOTIFICATIONS_EMBEDDED_MAX_STORAGE says otherwise: 10 GiB, room for the 8 GiB that the
// streams' default limits reserve and for the idempotency record. Without a limit the
// server would take three quarters of the free disk; with one, a flood of events fills the
// streams to their own limits and stops there, instead of filling the machine's disk.
const DefaultMaxStorage int64 = 10 << 30

// Options configure the embedded server.
type Options struct {
	// DataDir holds the server's files, under DataDir/nats.
	DataDir string
	// Addr is where the server listens (host:port; port 0 picks a free one), so that other
	// processes of the fleet and the publisher CLI can reach it.
	Addr string
	// MaxStorage is the JetStream storage limit in bytes. It must hold every stream's
	// max_bytes, which the server reserves when it creates the stream. Defaults to
	// DefaultMaxStorage.
	MaxStorage int64
	// Users are the NATS users the server accepts, each held to its role's permissions (see
	// package natsauth). None means no authentication: anyone who reaches Addr may do
	// anything, which only a benchmark or a test on loopback should want.
	Users []natsauth.User
}

// Start starts an in-process NATS server with JetStream storing its files under
// dataDir/nats, listening on addr, with the default storage limit; see StartWith.
func Start(dataDir, addr string, log *slog.Logger) (*server.Server, error) {
	return StartWith(Options{DataDir: dataDir, Addr: addr}, log)
}

// StartWith starts an in-process NATS server with JetStream as opts say. Shut it down with
// Shutdown and WaitForShutdown.
func StartWith(o Options, log *slog.Logger) (*server.Server, error) {
	dataDir, addr := o.DataDir, o.Addr
	if o.MaxStorage <= 0 {
		o.MaxStorage = DefaultMaxStorage
	}
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
		// JetStreamMaxStore, not a disk estimate: the limit is the same on every machine.
		JetStreamMaxStore: o.MaxStorage,
		MaxPayload:        MaxPayload,
		NoSigs:            true,
		NoLog:             true,
		Nkeys:             nkeyUsers(o.Users),
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
	log.Info("embedded nats started", "url", s.ClientURL(), "store_dir", opts.StoreDir, "max_storage_bytes", o.MaxStorage,
		"users", len(o.Users))
	return s, nil
}

// nkeyUsers turns Herald's roles into the server's nkey users, in its global account, which
// has JetStream: existing streams stay where earlier versions put them.
func nkeyUsers(users []natsauth.User) []*server.NkeyUser {
	if len(users) == 0 {
		return nil
	}
	out := make([]*server.NkeyUser, 0, len(users))
	for _, u := range users {
		out = append(out, &server.NkeyUser{
			Nkey: u.PublicKey,
			Permissions: &server.Permissions{
				Publish:   &server.SubjectPermission{Allow: u.Permissions.Publish},
				Subscribe: &server.SubjectPermission{Allow: u.Permissions.Subscribe},
			},
		})
	}
	return out
}
