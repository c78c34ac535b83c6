package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
)

// Main runs a process of the given role until SIGINT or SIGTERM and returns its exit code.
// Configuration comes from the environment; an invalid variable ends the process at once with
// a one-line reason naming it. A process that runs the dispatcher also takes the argument
// "migrate": bring the ledger's schema up to date and exit; and "secrets rewrap": seal tenant
// destinations' secrets again under the first key of NOTIFICATIONS_SECRETS_KEY and exit.
func Main(role Role, defaultHTTPAddr string, args []string) int {
	switch {
	case len(args) == 0:
	case len(args) == 1 && args[0] == "migrate" && role.Dispatcher && role.Parts.OpenLedger != nil:
		return Migrate(role.Parts)
	case len(args) == 2 && args[0] == "secrets" && args[1] == "rewrap" && role.Dispatcher && role.Parts.OpenLedger != nil:
		return RewrapSecrets(role.Parts)
	default:
		usage := role.Name
		if role.Dispatcher {
			usage += " [migrate | secrets rewrap]"
		}
		fmt.Fprintf(os.Stderr, "usage: %s\n", usage)
		return 2
	}
	cfg, err := config.Load(os.Getenv, defaultHTTPAddr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: invalid configuration: %v\n", role.Name, err)
		return 2
	}
	log := obs.NewLogger(obs.LogConfig{Level: cfg.LogLevel, Format: cfg.LogFormat, Secrets: cfg.Secrets()}).
		With("process", role.Name)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	p, err := Start(ctx, cfg, role, log)
	if err != nil {
		log.Error("start failed", "err", err)
		fmt.Fprintf(os.Stderr, "%s: %v\n", role.Name, err)
		return 1
	}
	log.Info("started", "http_addr", p.HTTPAddr(), "channels", role.Channels, "dispatcher", role.Dispatcher)
	code := 0
	select {
	case <-ctx.Done():
		log.Info("stopping: finishing work in hand")
	case err := <-p.Err():
		log.Error("stopping", "err", err)
		code = 1
	}
	p.Stop()
	log.Info("stopped")
	return code
}

// Migrate brings the ledger's schema up to date and exits.
func Migrate(parts Parts) int {
	cfg, err := config.Load(os.Getenv, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald migrate: invalid configuration: %v\n", err)
		return 2
	}
	log := obs.NewLogger(obs.LogConfig{Level: cfg.LogLevel, Format: cfg.LogFormat, Secrets: cfg.Secrets()})
	s, err := parts.OpenLedger(context.Background(), cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald migrate: %v\n", err)
		return 1
	}
	s.Close()
	log.Info("ledger schema is up to date", slog.Bool("postgres", cfg.DatabaseURL != ""))
	return 0
}
