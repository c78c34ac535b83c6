// Package pgserver lends the tests' throwaway PostgreSQL server (internal/testutil) to the
// commands that need one outside of go test: the benchmark and the fault suite. The server is
// started the way the tests start theirs (initdb into a temporary directory, a free loopback
// port, trust authentication, as the postgres user when running as root), can be stopped and
// started again on the same port and data to simulate an outage, and is removed by Close.
package pgserver

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/testutil"
)

// Server is a throwaway PostgreSQL server. Its methods are safe for concurrent use.
type Server struct {
	pg *testutil.Postgres
	tb *commandTB
}

// Start starts a server, or explains how to install PostgreSQL when its binaries are missing.
func Start() (*Server, error) {
	tb := &commandTB{out: os.Stderr}
	var pg *testutil.Postgres
	if err := tb.run(func() { pg = testutil.StartPostgres(tb) }); err != nil {
		tb.cleanup()
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
func (s *Server) Stop() error { return s.tb.run(func() { s.pg.Stop(s.tb) }) }

// Restart starts a stopped server again on the same port and data, and returns once it
// accepts connections.
func (s *Server) Restart() error { return s.tb.run(func() { s.pg.Start(s.tb) }) }

// Close stops the server and removes its files.
func (s *Server) Close() { s.tb.cleanup() }

// commandTB implements the few testing.TB methods that testutil's PostgreSQL calls, so that a
// command can use it: Fatal stops the call in hand (see run) and the rest print. The embedded
// testing.TB is nil: a method testutil starts to call would panic at once, in the first run of
// a command, rather than misbehave.
type commandTB struct {
	testing.TB
	out      io.Writer
	cleanups []func()
}

// fatal carries a Fatal's message from the panic that stops the call to run.
type fatal string

func (c *commandTB) Helper()                   {}
func (c *commandTB) Name() string              { return "pgserver" }
func (c *commandTB) Cleanup(f func())          { c.cleanups = append(c.cleanups, f) }
func (c *commandTB) Errorf(f string, a ...any) { fmt.Fprintf(c.out, f+"\n", a...) }
func (c *commandTB) Logf(f string, a ...any)   { fmt.Fprintf(c.out, f+"\n", a...) }
func (c *commandTB) Fatalf(f string, a ...any) { panic(fatal(fmt.Sprintf(f, a...))) }
func (c *commandTB) Fatal(a ...any)            { panic(fatal(fmt.Sprint(a...))) }

// run calls f and turns a Fatal inside it into an error.
func (c *commandTB) run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("pgserver: %s", msg)
		}
	}()
	f()
	return nil
}

func (c *commandTB) cleanup() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	c.cleanups = nil
}
