// Package parts provides the heavy pieces of a Herald process that only some binaries link
// in: the embedded NATS server and the ledgers. The herald and dispatcher commands use them;
// channel-worker, which needs neither, stays small without them.
package parts

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/broker/embedded"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/store/sqlite"
)

// All returns every part: the embedded NATS server and both ledgers.
func All() app.Parts {
	return app.Parts{StartNATS: startNATS, OpenLedger: OpenLedger, PendingMigrations: PendingMigrations}
}

func startNATS(dataDir, addr string, maxStorage int64, users []natsauth.User, log *slog.Logger) (app.EmbeddedServer, error) {
	return embedded.StartWith(embedded.Options{DataDir: dataDir, Addr: addr, MaxStorage: maxStorage, Users: users}, log)
}

// OpenLedger opens PostgreSQL when NOTIFICATIONS_DATABASE_URL is set, else the embedded
// SQLite ledger in the data directory, and migrates it.
func OpenLedger(ctx context.Context, cfg *config.Config) (store.Store, error) {
	var (
		s   store.Store
		err error
	)
	if cfg.DatabaseURL != "" {
		s, err = postgres.New(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS_DATABASE_URL: %w", err)
		}
	} else {
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS_DATA_DIR: %w", err)
		}
		s, err = sqlite.Open(ctx, filepath.Join(cfg.DataDir, "ledger.db"))
		if err != nil {
			return nil, fmt.Errorf("NOTIFICATIONS_DATA_DIR: %w", err)
		}
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate ledger: %w", err)
	}
	return s, nil
}
