// Package pgserver lends the tests' throwaway PostgreSQL server (internal/testutil) to the
// commands that need one outside of go test: the benchmark and the fault suite. The server is
// started the way the tests start theirs (initdb into a temporary directory, a free loopback
// port, trust authentication, as the postgres user when running as root), can be stopped and
// started again on the same port and data to simulate an outage, and is removed by Close.
package pgserver

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/cmdtb"
	"github.com/heraldhq/herald/internal/testutil"
)

// Server is a throwaway PostgreSQL server. Its methods are safe for concurrent use.
type Server struct {
	pg *testutil.Postgres
	tb *cmdtb.TB
}

// Start starts a server, or explains how to install PostgreSQL when its binaries are missing.
func Start() (*Server, error) {
	tb := cmdtb.New("pgserver", os.Stderr)
	var pg *testutil.Postgres
	if err := tb.Run(func() { pg = testutil.StartPostgres(tb) }); err != nil {
		tb.Close()
		return nil, err
	}
	return &Server{pg: pg, tb: tb}, nil
}

// URL returns the connection URL of database db, as the superuser postgres.
func (s *Server) URL(db string) string { return s.pg.URL(db) }

// CreateDatabase creates an empty database and returns its URL.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	conn, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.URL(name), nil
}

// Stop shuts the server down (open sessions are ended) and waits until it has exited, as an
// outage would; the data stays for Restart.
func (s *Server) Stop() error { return s.tb.Run(func() { s.pg.Stop(s.tb) }) }

// Restart starts a stopped server again on the same port and data, and returns once it
// accepts connections.
func (s *Server) Restart() error { return s.tb.Run(func() { s.pg.Start(s.tb) }) }

// Close stops the server and removes its files.
func (s *Server) Close() { s.tb.Close() }
