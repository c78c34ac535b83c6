package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/heraldhq/herald/internal/redact"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/migrations"
)

// MigrationsTable is the table in which Migrate records the applied schema versions.
const MigrationsTable = "herald_schema_migrations"

// migrationLockID is the advisory lock that serialises Migrate across processes; any
// constant unlikely to collide with another application's lock on the same database.
const migrationLockID = 0x68657261 // "hera"

// Store is the PostgreSQL ledger. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	cfg      *pgxpool.Config
	password string // redacted from every error
	logger   *slog.Logger

	migrateMu sync.Mutex // one Migrate at a time in this process; the advisory lock covers others
}

var _ store.Store = (*Store)(nil)

// Option configures New.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	maxConns int32
}

// WithLogger sets the logger Migrate reports applied migrations to. Defaults to discarding.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// WithMaxConns caps the connection pool. Defaults to the URL's pool_max_conns, else pgxpool's
// default (the greater of 4 and the number of CPUs).
func WithMaxConns(n int32) Option {
	return func(o *options) { o.maxConns = n }
}

// New returns a Store for the database at url (postgres://user:password@host:port/db?...,
// pgx's pool_* parameters included). It does not connect: a database that is down delays
// the first query, not the start. Call Ping to check, Migrate before first use, and Close
// when done.
func New(ctx context.Context, url string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx masks the password of a URL it cannot parse only as far as it can tell where
		// the password is, and net/url's errors quote the URL whole: show none of it.
		return nil, errors.New("open postgres store: invalid database URL (not shown: it may hold a password)")
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	s := &Store{cfg: cfg, password: cfg.ConnConfig.Password, logger: o.logger}
	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, s.wrap("open postgres store", err)
	}
	return s, nil
}

// Migrate brings the schema up to date with the embedded migrations. It is idempotent and
// safe to run from several processes at once.
func (s *Store) Migrate(ctx context.Context) error {
	s.migrateMu.Lock()
	defer s.migrateMu.Unlock()
	if err := s.migrate(ctx); err != nil {
		return s.wrap("migrate postgres", err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(migrationLockID),
		lock.WithLockTimeout(1, 300),  // wait up to 5 minutes for another process's migration
		lock.WithUnlockTimeout(1, 60), // retry unlocking for a minute
	)
	if err != nil {
		return err
	}
	db := stdlib.OpenDB(*s.cfg.ConnConfig.Copy())
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, migrations.Postgres,
		goose.WithTableName(MigrationsTable),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return err
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return err
	}
	for _, r := range results {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "applied migration",
			slog.String("component", "store"), slog.Int64("version", r.Source.Version),
			slog.Duration("duration", r.Duration))
	}
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return s.wrap("ping postgres", err)
	}
	return nil
}

// Close waits for queries in flight and closes the connections.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// wrap adds context to err and masks the database password, should the driver have quoted
// it (a server's message can echo connection parameters).
func (s *Store) wrap(op string, err error) error {
	err = fmt.Errorf("%s: %w", op, err)
	if s.password == "" || !strings.Contains(err.Error(), s.password) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), s.password, redact.Mask), err: err}
}

// redactedError keeps the cause for errors.Is and errors.As but prints a masked message.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
