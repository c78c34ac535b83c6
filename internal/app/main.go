package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/redact"
)

// Subcommand is an argument a binary takes instead of running, such as "migrate". Main
// dispatches on the table Subcommands, and the usage text lists it, so that adding one is
// one entry.
type Subcommand struct {
	// Args are the words that select it: {"migrate"}, {"secrets", "rewrap"}.
	Args []string
	// Summary says what it does, for the usage text.
	Summary string
	// Ledger says that only binaries that link the ledger (herald, dispatcher) take it.
	Ledger bool
	// Run does it and returns the exit code.
	Run func(role Role, defaultHTTPAddr string) int
}

// Subcommands are the arguments Herald's binaries take instead of running.
var Subcommands = []Subcommand{
	{Args: []string{"migrate"}, Ledger: true,
		Summary: "bring the ledger's schema up to date, say what was applied, and exit",
		Run:     func(r Role, _ string) int { return Migrate(r.Parts) }},
	{Args: []string{"secrets", "rewrap"}, Ledger: true,
		Summary: "seal tenant destinations' secrets again under the first key, and exit",
		Run:     func(r Role, _ string) int { return RewrapSecrets(r.Parts) }},
	{Args: []string{"env"},
		Summary: "print every NOTIFICATIONS_* variable with its default and meaning, and exit",
		Run: func(_ Role, addr string) int {
			if err := config.PrintVars(os.Stdout, addr); err != nil {
				return 1
			}
			return 0
		}},
}

// takes reports whether the role's binary takes the subcommand.
func (s Subcommand) takes(role Role) bool {
	return !s.Ledger || (role.Dispatcher && role.Parts.OpenLedger != nil)
}

// IsHelp reports whether args ask for the usage text.
func IsHelp(args []string) bool {
	return len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help" || args[0] == "help")
}

// Main runs a process of the given role until SIGINT or SIGTERM and returns its exit code:
// 0 after a clean stop, 1 when it failed, 2 for a usage or configuration mistake.
// Configuration comes from the environment; an invalid variable ends the process at once
// with a one-line reason naming it. args may instead ask for help or name one of the
// Subcommands the binary takes.
func Main(role Role, defaultHTTPAddr string, args []string) int {
	if IsHelp(args) {
		Usage(os.Stdout, role, defaultHTTPAddr)
		return 0
	}
	if len(args) > 0 {
		for _, s := range Subcommands {
			if slices.Equal(args, s.Args) && s.takes(role) {
				return s.Run(role, defaultHTTPAddr)
			}
		}
		fmt.Fprintf(os.Stderr, "%s: unknown argument %q\n\n", role.Name, strings.Join(args, " "))
		Usage(os.Stderr, role, defaultHTTPAddr)
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

	fail := func(err error) int {
		msg := redact.Text(err.Error(), cfg.Secrets()...)
		var ce *config.Error
		switch {
		case errors.As(err, &ce):
			fmt.Fprintf(os.Stderr, "%s: invalid configuration: %s\n", role.Name, redact.Text(ce.Error(), cfg.Secrets()...))
			return 2
		case ctx.Err() != nil:
			fmt.Fprintf(os.Stderr, "%s: stopped by a signal before it had started\n", role.Name)
			return 1
		}
		fmt.Fprintf(os.Stderr, "%s: %s\n", role.Name, msg)
		return 1
	}
	if err := preflight(ctx, cfg, role, log); err != nil {
		return fail(err)
	}
	p, err := Start(ctx, cfg, role, log)
	if err != nil {
		return fail(err)
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

// Usage writes what the role's binary runs, the arguments it takes and where its
// configuration comes from.
func Usage(w io.Writer, role Role, defaultHTTPAddr string) {
	name := role.Name
	fmt.Fprintf(w, "%s\n\nUsage:\n", wrap(name+" "+describe(role)+".", 96))
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	if role.Dispatcher {
		fmt.Fprintf(tw, "  %s\trun until SIGINT or SIGTERM\n", name)
	} else {
		fmt.Fprintf(tw, "  %s --channel NAME[,NAME...]|all\trun until SIGINT or SIGTERM, delivering these channels\n", name)
	}
	for _, s := range Subcommands {
		if s.takes(role) {
			fmt.Fprintf(tw, "  %s %s\t%s\n", name, strings.Join(s.Args, " "), s.Summary)
		}
	}
	fmt.Fprintf(tw, "  %s --help\tthis text\n", name)
	tw.Flush()
	if !role.Dispatcher {
		fmt.Fprintf(w, "\nChannels: %s.\n", strings.Join(channelNames(), ", "))
		fmt.Fprintf(w, "%s\n", wrap("A channel needs a destination: the operator's (NOTIFICATIONS_<CHANNEL>_ENABLED=true and its "+
			"variables), or tenant destinations, which are on when NOTIFICATIONS_SECRETS_KEY is set (or, without "+
			"NOTIFICATIONS_DATABASE_URL, with the key file in the data directory). A worker for a channel without "+
			"an operator destination then serves tenants' destinations and says so once at start; with tenant "+
			"destinations off it stops at once (exit 2).", 96))
	}
	served := "/metrics, /healthz and /readyz"
	if role.Dispatcher {
		served = "/metrics, /healthz, /readyz and the HTTP API"
	}
	fmt.Fprintf(w, "\n%s\n", wrap(fmt.Sprintf("Configuration comes from NOTIFICATIONS_* variables: `%s env` lists every one with its "+
		"default and meaning. %s listen on NOTIFICATIONS_HTTP_ADDR (default %s).", name, served, defaultHTTPAddr), 96))
	fmt.Fprint(w, "Exit codes: 0 stopped cleanly, 1 failed, 2 usage or configuration mistake.\n")
}

// describe says what a process of the role runs, as the rest of a sentence after its name.
func describe(role Role) string {
	var parts []string
	if role.Dispatcher {
		parts = append(parts, "the dispatcher (validates, routes and fans out events)", "the ledger recorder", "the HTTP API")
	}
	if role.EmbeddedNATS {
		parts = append(parts, "the embedded NATS server when NOTIFICATIONS_NATS_URL is unset")
	}
	switch {
	case slices.Equal(role.Channels, []string{"all"}):
		parts = append(parts, "a worker for every channel (for the channels with an operator destination only, when tenant destinations are off)")
	case len(role.Channels) > 0:
		parts = append(parts, "workers for "+strings.Join(role.Channels, ", "))
	case !role.Dispatcher:
		return "delivers the notifications of the channels --channel names; run as many as a channel needs: they share its consumer, and a worker that dies loses nothing"
	}
	if len(parts) > 1 && slices.Equal(role.Channels, []string{"all"}) {
		return "runs the whole fleet in one process: " + joinAnd(parts)
	}
	return "runs " + joinAnd(parts)
}

// wrap breaks text into lines of at most width bytes, between words.
func wrap(text string, width int) string {
	var b strings.Builder
	line := 0
	for i, word := range strings.Fields(text) {
		if i > 0 && line+1+len(word) > width {
			b.WriteByte('\n')
			line = 0
		} else if i > 0 {
			b.WriteByte(' ')
			line++
		}
		b.WriteString(word)
		line += len(word)
	}
	return b.String()
}

func joinAnd(parts []string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// channelNames are the channels built into Herald.
func channelNames() []string {
	var out []string
	for _, p := range all.Providers() {
		out = append(out, p.Name())
	}
	return out
}

// Migrate brings the ledger's schema up to date, says which migrations it applied, and
// returns the exit code.
func Migrate(parts Parts) int {
	cfg, err := config.Load(os.Getenv, "")
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald migrate: invalid configuration: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	where := "the SQLite ledger in " + cfg.DataDir
	if cfg.DatabaseURL != "" {
		where = "the PostgreSQL ledger"
	}
	if cfg.DatabaseURL != "" {
		if err := reachDatabase(ctx, cfg.DatabaseURL); err != nil {
			fmt.Fprintf(os.Stderr, "herald migrate: %s\n", redact.Text(err.Error(), cfg.Secrets()...))
			return 1
		}
	}
	var pending []string
	if parts.PendingMigrations != nil {
		if pending, err = parts.PendingMigrations(ctx, cfg); err != nil {
			fmt.Fprintf(os.Stderr, "herald migrate: %s\n", redact.Text(err.Error(), cfg.Secrets()...))
			return 1
		}
	}
	s, err := parts.OpenLedger(ctx, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "herald migrate: %s\n", redact.Text(err.Error(), cfg.Secrets()...))
		return 1
	}
	s.Close()
	switch len(pending) {
	case 0:
		fmt.Printf("%s: schema is up to date, nothing to apply\n", where)
	case 1:
		fmt.Printf("%s: applied 1 migration: %s\n", where, pending[0])
	default:
		fmt.Printf("%s: applied %d migrations: %s\n", where, len(pending), strings.Join(pending, ", "))
	}
	return 0
}
