package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/heraldhq/herald/internal/apiclient"
)

// Exit codes scripts can trust.
const (
	exitOK          = 0
	exitAPIError    = 1
	exitUsage       = 2
	exitUnreachable = 3
	exitAuth        = 4
	exitNotFound    = 5
)

// defaultURL matches herald's and the dispatcher's default NOTIFICATIONS_HTTP_ADDR (:8080).
const defaultURL = "http://127.0.0.1:8080"

// tokenFile is where the single-machine default keeps the admin token it generated, under
// its data directory (NOTIFICATIONS_DATA_DIR, default ./data).
const tokenFile = "admin.token"

// stdio are the streams of one run.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// ctl is one run of heraldctl: its streams, its flags and its client.
type ctl struct {
	io     stdio
	getenv func(string) string

	url, token string
	json       bool

	client *apiclient.Client
	// tokenSource says where the token came from, for the message of a refusal.
	tokenSource string
	// ran is set once a command's own work starts: an error before it is a usage error.
	ran bool
	// answers reads the answers to confirm's questions, one line each.
	answers *bufio.Reader
}

// run executes heraldctl with args and returns the exit code.
func run(ctx context.Context, args []string, io stdio, getenv func(string) string) int {
	c := &ctl{io: io, getenv: getenv}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(io.in)
	root.SetOut(io.out)
	root.SetErr(io.err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	code := c.exitCode(err)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(io.err, "heraldctl: interrupted")
		return code
	}
	switch code {
	case exitUsage:
		fmt.Fprintf(io.err, "heraldctl: %v\nRun 'heraldctl --help' for usage.\n", err)
	case exitAuth:
		fmt.Fprintf(io.err, "heraldctl: %v (token from %s)\n", err, c.tokenSource)
	default:
		fmt.Fprintf(io.err, "heraldctl: %v\n", err)
	}
	return code
}

func (c *ctl) exitCode(err error) int {
	var ue *usageError
	var ae *apiclient.Error
	var ne *apiclient.UnreachableError
	switch {
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ae):
		switch {
		case ae.IsAuth():
			return exitAuth
		case ae.IsNotFound():
			return exitNotFound
		}
		return exitAPIError
	case errors.As(err, &ne):
		return exitUnreachable
	case !c.ran:
		// cobra's own errors: an unknown command or flag, a missing argument.
		return exitUsage
	}
	return exitAPIError
}

func (c *ctl) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "heraldctl",
		Short: "Herald's HTTP API from a terminal",
		Long: `heraldctl manages Herald through its HTTP API: tenant destinations, delivery history, dead
letters, replays, tenant keys, status and test sends.

The server is HERALD_URL (--url), default ` + defaultURL + `, where herald and the
dispatcher listen by default (NOTIFICATIONS_HTTP_ADDR). The token is HERALD_TOKEN (--token):
the admin token (NOTIFICATIONS_ADMIN_TOKEN) or a tenant key (hk_...). When neither is set and
data/admin.token exists (or $NOTIFICATIONS_DATA_DIR/admin.token), heraldctl uses it: the
single-machine default writes the admin token it generates there.

--json prints the API's JSON as it came, for scripts; otherwise output is aligned tables.

Exit codes: 0 ok; 1 the API answered an error (its code and message are printed); 2 usage;
3 the server could not be reached; 4 credentials refused (401 or 403); 5 not found (404).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return c.connect()
		},
	}
	root.PersistentFlags().StringVar(&c.url, "url", "", "API server (env HERALD_URL; default "+defaultURL+")")
	root.PersistentFlags().StringVar(&c.token, "token", "", "admin token or tenant key (env HERALD_TOKEN; else data/admin.token)")
	root.PersistentFlags().BoolVar(&c.json, "json", false, "print the API's JSON as it came")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.AddCommand(c.destinationsCommand(), c.historyCommand(), c.deliveryCommand(), c.deadCommand(),
		c.replayCommand(), c.keysCommand(), c.statusCommand(), c.testCommand(), c.eventTypesCommand())
	root.CompletionOptions.DisableDefaultCmd = true
	return root
}

// connect resolves the URL and the token, once flags are parsed.
func (c *ctl) connect() error {
	url := c.url
	if url == "" {
		url = c.getenv("HERALD_URL")
	}
	if url == "" {
		url = defaultURL
	}
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	token, source := c.token, "--token"
	if token == "" {
		token, source = c.getenv("HERALD_TOKEN"), "HERALD_TOKEN"
	}
	if token == "" {
		dir := c.getenv("NOTIFICATIONS_DATA_DIR")
		if dir == "" {
			dir = "data"
		}
		path := filepath.Join(dir, tokenFile)
		if b, err := os.ReadFile(path); err == nil {
			token, source = strings.TrimSpace(string(b)), path
		} else {
			source = "nowhere: set HERALD_TOKEN"
		}
	}
	c.tokenSource = source
	c.client = &apiclient.Client{BaseURL: url, Token: token}
	return nil
}

// start marks the beginning of a command's own work: errors from here on are not usage.
func (c *ctl) start() { c.ran = true }

// printJSON writes the API's answer as it came.
func (c *ctl) printJSON(resp *apiclient.Response) {
	if resp == nil {
		return
	}
	c.io.out.Write(resp.Body)
	if len(resp.Body) == 0 || resp.Body[len(resp.Body)-1] != '\n' {
		fmt.Fprintln(c.io.out)
	}
}

// isTerminal reports whether f is a terminal; tests replace it.
var isTerminal = func(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// interactive reports whether heraldctl may ask a question: both ends are a terminal.
func (c *ctl) interactive() bool { return isTerminal(c.io.in) && isTerminal(c.io.out) }

// confirm asks a yes/no question on the terminal; the answer defaults to no.
func (c *ctl) confirm(question string) bool {
	fmt.Fprintf(c.io.out, "%s [y/N] ", question)
	if c.answers == nil {
		c.answers = bufio.NewReader(c.io.in)
	}
	line, _ := c.answers.ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// needConfirmation asks before something wide, unless --yes; off a terminal, without --yes,
// it refuses: a script must say --yes.
func (c *ctl) needConfirmation(yes bool, question string) error {
	if yes {
		return nil
	}
	if !c.interactive() {
		return usagef("%s: not on a terminal to ask; add --yes", strings.TrimSuffix(question, "?"))
	}
	if !c.confirm(question) {
		return errAborted
	}
	return nil
}

// errAborted is a question answered no: nothing was done.
var errAborted = errors.New("aborted: nothing was done")

// exactArgs is cobra.ExactArgs with a usage error naming what is missing.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usagef("want %d argument(s): %s; got %d", len(names), strings.Join(names, " "), len(args))
		}
		return nil
	}
}
