package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/redact"
	"github.com/heraldhq/herald/internal/tenants"
)

// DatabaseConnectTimeout bounds how long a start waits for PostgreSQL to answer before it
// gives up, so that a wrong host fails in seconds, not after the driver's own patience.
const DatabaseConnectTimeout = 10 * time.Second

// preflight finds the mistakes that would otherwise surface only after NATS and the
// dispatcher started: a worker for a channel that does not exist or has nothing to deliver,
// and a database that does not answer. It honours ctx, the signal context.
func preflight(ctx context.Context, cfg *config.Config, role Role, log *slog.Logger) error {
	if !cfg.Enabled {
		return nil
	}
	if err := checkWorkerChannels(cfg, role, log); err != nil {
		return err
	}
	if role.Dispatcher && role.Parts.OpenLedger != nil && cfg.DatabaseURL != "" {
		return reachDatabase(ctx, cfg.DatabaseURL)
	}
	return nil
}

// checkWorkerChannels refuses a worker for a channel Herald does not have, and one for a
// channel without an operator destination unless tenant destinations are on: then a tenant
// may add a destination of that channel at any time, and the worker warns once instead.
func checkWorkerChannels(cfg *config.Config, role Role, log *slog.Logger) error {
	if len(role.Channels) == 0 || slices.Equal(role.Channels, []string{"all"}) {
		return nil
	}
	known := channelNames()
	configured := cfg.Channels()
	var idle []string
	for _, name := range role.Channels {
		if !slices.Contains(known, name) {
			return &config.Error{Var: "--channel", Reason: fmt.Sprintf("%q is not a channel of Herald (channels: %s)", name, strings.Join(known, ", "))}
		}
		if !slices.Contains(configured, name) {
			idle = append(idle, name)
		}
	}
	if len(idle) == 0 {
		return nil
	}
	_, source, err := tenants.LoadKeyring(cfg.SecretsKey, cfg.DatabaseURL, cfg.DataDir)
	if err == nil && source != tenants.KeysNone {
		for _, name := range idle {
			log.Warn(fmt.Sprintf("channel %s has no operator destination (%s is not true): this worker delivers only tenant destinations of %s", name, enabledVar(name), name),
				"channel", name)
		}
		return nil
	}
	name := idle[0]
	return &config.Error{Var: "--channel", Reason: fmt.Sprintf("channel %s has no destination to deliver to: set %s=true and its variables (`env` lists them), or NOTIFICATIONS_SECRETS_KEY so that tenants may add destinations of it",
		name, enabledVar(name))}
}

// enabledVar is the variable that turns the operator's destination of a channel on.
func enabledVar(name string) string {
	for _, p := range all.Providers() {
		if p.Name() == name {
			return p.Spec().EnabledVar
		}
	}
	return ""
}

// reachDatabase connects to PostgreSQL once, within DatabaseConnectTimeout, so that a
// database that is down or mistyped is named before anything starts.
func reachDatabase(ctx context.Context, url string) error {
	password := ""
	if pc, err := pgconn.ParseConfig(url); err == nil {
		password = pc.Password
	}
	cctx, cancel := context.WithTimeout(ctx, DatabaseConnectTimeout)
	defer cancel()
	conn, err := pgconn.Connect(cctx, url)
	if err == nil {
		return conn.Close(ctx)
	}
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(cctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("NOTIFICATIONS_DATABASE_URL: the database did not answer within %s", DatabaseConnectTimeout)
	}
	return fmt.Errorf("NOTIFICATIONS_DATABASE_URL: cannot reach the database: %s", redact.Text(err.Error(), password))
}
