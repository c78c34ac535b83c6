package app

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/tenants"
)

// RewrapSecrets is the "secrets rewrap" command: it seals every tenant destination's
// configuration again under the first key of NOTIFICATIONS_SECRETS_KEY (or of the embedded
// default's key file), and returns the exit code. Run it after putting a new key first; once
// it has succeeded, and the destinations bucket has been brought up to date (by this command
// when NOTIFICATIONS_NATS_URL names a server, else by the next start of a dispatcher), the
// old keys can be removed.
func RewrapSecrets(parts Parts) int {
	cfg, err := config.Load(os.Getenv, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald secrets rewrap: invalid configuration: %v\n", err)
		return 2
	}
	log := obs.NewLogger(obs.LogConfig{Level: cfg.LogLevel, Format: cfg.LogFormat, Secrets: cfg.Secrets()})
	n, err := Rewrap(context.Background(), cfg, parts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald secrets rewrap: %v\n", err)
		return 1
	}
	log.Info("tenant destinations sealed under the first key", "rewritten", n)
	return 0
}

// Rewrap is RewrapSecrets' work: it returns how many destinations it sealed again.
func Rewrap(ctx context.Context, cfg *config.Config, parts Parts) (int, error) {
	kr, source, err := tenants.LoadKeyringFor(cfg.SecretsKey, cfg.DataDir, ownsDataDir(cfg))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", secretbox.EnvVar, err)
	}
	if source == tenants.KeysNone {
		return 0, tenants.ErrNoKey
	}
	if parts.OpenLedger == nil {
		return 0, fmt.Errorf("this binary has no ledger: run the command with herald or dispatcher")
	}
	ledger, err := parts.OpenLedger(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer ledger.Close()
	st, ok := ledger.(store.DestinationStore)
	if !ok {
		return 0, fmt.Errorf("the ledger (%T) does not keep tenant destinations", ledger)
	}
	n, err := tenants.Rewrap(ctx, st, kr)
	if err != nil {
		return n, err
	}
	if cfg.NATSURL == "" {
		return n, nil // the embedded server is not running: the next start reconciles
	}
	nc, err := broker.Connect(cfg.NATSURL, "herald-secrets-rewrap", obs.Discard())
	if err != nil {
		return n, fmt.Errorf("rewrapped %d, but NOTIFICATIONS_NATS_URL: %w (the next dispatcher start updates the bucket)", n, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return n, err
	}
	kctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	kv, err := js.KeyValue(kctx, tenants.BucketConfig(cfg.SubjectPrefix, 1).Bucket)
	if err != nil {
		return n, nil // no bucket yet: no process has run tenant destinations
	}
	if _, err := tenants.Reconcile(kctx, st, kv); err != nil {
		return n, fmt.Errorf("rewrapped %d, but the destinations bucket: %w (the next dispatcher start updates it)", n, err)
	}
	return n, nil
}

// ownsDataDir reports whether the process is the embedded default, whose ledger and NATS
// server keep their files in NOTIFICATIONS_DATA_DIR: only then may an unset
// NOTIFICATIONS_SECRETS_KEY mean the key file there.
func ownsDataDir(cfg *config.Config) bool { return cfg.DatabaseURL == "" && cfg.NATSURL == "" }
