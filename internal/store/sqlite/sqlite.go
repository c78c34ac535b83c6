package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/migrations"
)

// MigrationsTable is the table in which Migrate records the applied schema versions.
const MigrationsTable = "herald_schema_migrations"

// busyTimeout is how long a connection waits for another process's lock on the file before
// failing with SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// timeLayout is how times are stored: fixed width, so that text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Store is the SQLite ledger. It is safe for concurrent use.
type Store struct {
	write *sql.DB // one connection: SQLite has a single writer anyway
	read  *sql.DB // read-only connections; the writer itself for an in-memory database

	migrateMu sync.Mutex
}

var _ store.Store = (*Store)(nil)

// Open opens, creating it if needed, the SQLite database at path; ":memory:" opens a private
// in-memory database. Call Migrate before first use and Close when done.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite store: invalid path %q", path)
	}
	pragmas := func(extra ...string) string {
		q := url.Values{"_pragma": append([]string{
			fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()),
		}, extra...)}
		return q.Encode()
	}
	// IMMEDIATE transactions take the write lock at BEGIN, so that a transaction never fails
	// to upgrade from reading to writing when another process holds the lock.
	write, err := sql.Open("sqlite", path+"?"+pragmas(
		"journal_mode(WAL)", "synchronous(NORMAL)")+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0) // an in-memory database lives as long as its connection
	write.SetConnMaxIdleTime(0)
	s := &Store{write: write, read: write}
	// Connect now: this creates the file and switches it to WAL before readers open it.
	if err := write.PingContext(ctx); err != nil {
		_ = write.Close()
		return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
	}
	if path != ":memory:" {
		read, err := sql.Open("sqlite", path+"?"+pragmas("query_only(1)"))
		if err != nil {
			_ = write.Close()
			return nil, fmt.Errorf("open sqlite store %s: %w", path, err)
		}
		read.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
		s.read = read
	}
	return s, nil
}

// Migrate brings the schema up to date with the embedded migrations. It is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	s.migrateMu.Lock()
	defer s.migrateMu.Unlock()
	provider, err := goose.NewProvider(goose.DialectSQLite3, s.write, migrations.SQLite,
		goose.WithTableName(MigrationsTable),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	// Not provider.Close: it would close the store's connection.
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.read.PingContext(ctx); err != nil {
		return fmt.Errorf("ping sqlite: %w", err)
	}
	return nil
}

// Close closes the connections; in WAL mode the last one to close checkpoints the log into
// the database file.
func (s *Store) Close() error {
	var err error
	if s.read != s.write {
		err = s.read.Close()
	}
	if err := errors.Join(err, s.write.Close()); err != nil {
		return fmt.Errorf("close sqlite: %w", err)
	}
	return nil
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}
