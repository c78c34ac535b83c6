package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/broker/embedded"
	"github.com/heraldhq/herald/internal/childproc"
	"github.com/heraldhq/herald/internal/fleetproc"
	"github.com/heraldhq/herald/internal/pgserver"
)

// serveNATS runs the embedded NATS server, as the fleet's single-machine default does, until
// its standard input closes (the parent ended, in whatever way).
func serveNATS(dir, addr string, stderr io.Writer) int {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := embedded.Start(dir, addr, log)
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench nats: %v\n", err)
		return 1
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	s.Shutdown()
	s.WaitForShutdown()
	return 0
}

// stopGrace is how long a stopped process may take to finish what it holds before it is
// killed.
const stopGrace = 30 * time.Second

// startNATS starts the embedded server in a child process, so that its CPU time and memory
// are its own, and returns its URL.
func startNATS(ctx context.Context, dir string) (*childproc.Process, string, error) {
	port, err := childproc.FreePort()
	if err != nil {
		return nil, "", err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	self, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	p, err := childproc.Start(childproc.Spec{Name: "nats", Path: self, Args: []string{"-nats-server", "-nats-dir", dir, "-nats-addr", addr},
		LogFile: filepath.Join(dir, "nats.log")})
	if err != nil {
		return nil, "", err
	}
	url := "nats://" + addr
	err = childproc.WaitFor(ctx, 30*time.Second, "the embedded NATS server", func() bool {
		nc, err := nats.Connect(url)
		if err != nil {
			return false
		}
		nc.Close()
		return true
	})
	if err != nil {
		p.Stop(stopGrace)
		return nil, "", err
	}
	return p, url, nil
}

// buildBinaries builds the dispatcher and channel-worker commands into dir.
func buildBinaries(ctx context.Context, dir string) error {
	if err := fleetproc.Build(ctx, dir); err != nil {
		return fmt.Errorf("run herald-bench from inside the module, or pass -bin: %w", err)
	}
	return nil
}

// postgresServer returns the database to benchmark against: NOTIFICATIONS_DATABASE_URL, or a
// throwaway server started the way the tests start theirs. stop releases it.
func postgresServer(url string) (_ string, stop func(), err error) {
	if url != "" {
		return url, func() {}, nil
	}
	pg, err := pgserver.Start()
	if err != nil {
		return "", nil, err
	}
	return pg.URL("postgres"), pg.Close, nil
}

// resetLedger empties the ledger's tables, if they exist yet, between runs.
func resetLedger(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("connect to postgres: %w", err)
	}
	defer conn.Close(context.Background())
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('notification_attempts') IS NOT NULL`).Scan(&exists); err != nil {
		return err
	}
	if !exists {
		return nil
	}
	_, err = conn.Exec(ctx, `TRUNCATE notification_deliveries, notification_attempts`)
	return err
}

// ledgerRows counts the rows of the ledger's two tables.
func ledgerRows(ctx context.Context, conn *pgx.Conn) (deliveries, attempts int64, err error) {
	err = conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM notification_deliveries), (SELECT count(*) FROM notification_attempts)`).Scan(&deliveries, &attempts)
	return deliveries, attempts, err
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive integers", s)
		}
		out = append(out, n)
	}
	return out, nil
}
