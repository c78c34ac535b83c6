package parts

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/store/sqlite"
	"github.com/heraldhq/herald/migrations"
)

// PendingMigrations names the migrations (file names without ".sql") that the ledger the
// configuration names has not applied yet, so that "migrate" can say what it applied. It
// reads the versions table only; OpenLedger applies them.
func PendingMigrations(ctx context.Context, cfg *config.Config) ([]string, error) {
	var (
		db      *sql.DB
		dialect goose.Dialect
		files   fs.FS
		table   string
	)
	if cfg.DatabaseURL != "" {
		pc, err := pgx.ParseConfig(cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS_DATABASE_URL: invalid database URL")
		}
		db, dialect, files, table = stdlib.OpenDB(*pc), goose.DialectPostgres, migrations.Postgres, postgres.MigrationsTable
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS_DATA_DIR: %w", err)
		}
		var err error
		db, err = sql.Open("sqlite", filepath.Join(cfg.DataDir, "ledger.db"))
		if err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS_DATA_DIR: %w", err)
		}
		dialect, files, table = goose.DialectSQLite3, migrations.SQLite, sqlite.MigrationsTable
	}
	defer db.Close()
	provider, err := goose.NewProvider(dialect, db, files, goose.WithTableName(table), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, err
	}
	status, err := provider.Status(ctx)
	if err != nil {
		if cfg.DatabaseURL != "" {
			return nil, fmt.Errorf("NOTIFICATIONS_DATABASE_URL: read the schema version: %w", redactErr(err, cfg.DatabaseURL))
		}
		return nil, fmt.Errorf("NOTIFICATIONS_DATA_DIR: read the schema version: %w", err)
	}
	var pending []string
	for _, s := range status {
		if s.State == goose.StatePending {
			pending = append(pending, strings.TrimSuffix(filepath.Base(s.Source.Path), ".sql"))
		}
	}
	return pending, nil
}

// redactErr drops the database password from err's text.
func redactErr(err error, databaseURL string) error {
	pc, perr := pgx.ParseConfig(databaseURL)
	if perr != nil || pc.Password == "" || !strings.Contains(err.Error(), pc.Password) {
		return err
	}
	return fmt.Errorf("%s", strings.ReplaceAll(err.Error(), pc.Password, "***"))
}
