package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/sdk"
)

const usage = `publisher-sdk publishes Herald events (CloudEvents 1.0 JSON) to NATS JetStream.

Usage:
  publisher-sdk publish --type TYPE [--tenant TENANT] [--source SOURCE] [--severity SEVERITY]
                        [--id ID] [--time RFC3339] [--timeout DURATION] [--json]
                        [--data JSON | key=value ...]
  publisher-sdk publish --file FILE|- [--timeout DURATION] [--json]
  publisher-sdk preview [--channel CHANNEL|all] [--html FILE]
                        [--templates DIR] (--sample TYPE | the event flags of publish)
  publisher-sdk types
  publisher-sdk help

publish builds an event with a new ULID id, the current time and the type's default
severity, and publishes it on <prefix>.events.<tenant|_>.<type> with Nats-Msg-Id set to
its id. With --file it publishes a complete CloudEvent JSON as is ("-" reads stdin).
Events of a known type (see "types") must carry that type's payload fields.

Flags of publish:
  --type TYPE          event type, dot-separated tokens, e.g. payment.failed (required)
  --tenant TENANT      tenant id; none means the event belongs to no tenant
  --source SOURCE      CloudEvents source (default publisher-sdk)
  --severity SEVERITY  info, warning or critical (default: the type's)
  --id ID              event id (default a new ULID); reuse it to retry without duplicates
  --time RFC3339       when it happened (default now)
  --data JSON          the data object as JSON, instead of key=value pairs
  --file FILE          publish this CloudEvent JSON file; - for stdin
  --timeout DURATION   how long to wait for the stream's ack (default 5s)
  --json               print the result as a JSON object

preview renders the event as each channel would send it, and sends nothing; CHANNEL is
webhook, discord, slack, email, sms, pagerduty, teams or telegram (default all): the exact
request body for the JSON channels, the subject and plain-text part of an email with its HTML
part written to a file (--html, default <type>.email.html). --sample TYPE takes the
built-in example of a type instead of the event flags. Templates come from --templates,
default NOTIFICATIONS_TEMPLATES_DIR, over the embedded ones.

Data: key=value pairs after the flags form the data object. A value that is a JSON
number, true, false, null, an array or an object keeps its JSON type; anything else is a
string. Quote a value as JSON to force a string: payment_id='"12345"'.

Environment:
  NOTIFICATIONS_NATS_URL        NATS server URLs, comma-separated (default: the embedded server
                                at NOTIFICATIONS_EMBEDDED_NATS_ADDR, 127.0.0.1:4222, as the producer
                                with NOTIFICATIONS_DATA_DIR/nats-credentials/producer.nk)
  NOTIFICATIONS_NATS_CREDS      the producer's NATS credentials: nkey seed or .creds file
  NOTIFICATIONS_NATS_TLS_CA     CA file of the servers' certificates (and _CERT, _KEY: a client
                                certificate and key)
  NOTIFICATIONS_SUBJECT_PREFIX  subject prefix (default herald)

Examples:
  publisher-sdk publish --type payment.failed --tenant acme tenant_id=acme reason="card declined" amount=49.99
  publisher-sdk publish --type node.health_degraded --tenant acme node_id=n-7 health_score=41 issues='["ecc errors"]'
  publisher-sdk publish --type deploy.finished --data '{"service":"api"}' --json
  publisher-sdk publish --file event.json
  publisher-sdk preview --channel discord --type payment.failed tenant_id=acme reason="card declined" amount=49.99
  publisher-sdk preview --channel email --html failed.html --file event.json
  publisher-sdk preview --sample node.terminated

Output: "published <id> stream=<stream> seq=<sequence>", with " duplicate" when the stream
already had the id. Exit status 0 on success, 1 when publishing fails, 2 on a usage error.
`

// Default values of the environment.
const (
	defaultNATSAddr = "127.0.0.1:4222" // where the single-machine fleet's embedded server listens
	defaultSource   = "publisher-sdk"
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run is the whole command, separated from main so that tests can call it. It returns the
// exit status.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	err := dispatch(ctx, args, getenv, stdin, stdout)
	var ue *usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "publisher-sdk: %v (run \"publisher-sdk help\" for usage)\n", err)
		return 2
	default:
		fmt.Fprintf(stderr, "publisher-sdk: %v\n", err)
		return 1
	}
}

func dispatch(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("no command given")
	}
	switch args[0] {
	case "publish":
		return publish(ctx, args[1:], getenv, stdin, stdout)
	case "preview":
		return preview(args[1:], getenv, stdin, stdout)
	case "types":
		for _, t := range sdk.KnownTypes() {
			fmt.Fprintf(stdout, "%-30s %s\n", t, sdk.DefaultSeverity(t))
		}
		return nil
	case "help", "-h", "-help", "--help":
		return flag.ErrHelp
	}
	return usagef("unknown command %q", args[0])
}

// publishFlags is the command line of publish.
type publishFlags struct {
	cmd                                                     string // publish or preview, for messages
	eventType, tenant, source, severity, id, at, data, file string
	timeout                                                 time.Duration
	json                                                    bool
	pairs                                                   []string
}

func parsePublishFlags(args []string) (publishFlags, error) {
	var f publishFlags
	fs := newEventFlagSet("publish", &f)
	fs.DurationVar(&f.timeout, "timeout", sdk.DefaultPublishTimeout, "")
	fs.BoolVar(&f.json, "json", false, "")
	if err := parseEventFlags(fs, &f, args); err != nil {
		return f, err
	}
	if f.timeout <= 0 {
		return f, usagef("publish: --timeout must be positive")
	}
	return f, nil
}

// newEventFlagSet returns a flag set for command name with the flags that describe an event,
// bound to f.
func newEventFlagSet(name string, f *publishFlags) *flag.FlagSet {
	f.cmd = name
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints one line, or the usage for -h
	fs.StringVar(&f.eventType, "type", "", "")
	fs.StringVar(&f.tenant, "tenant", "", "")
	fs.StringVar(&f.source, "source", defaultSource, "")
	fs.StringVar(&f.severity, "severity", "", "")
	fs.StringVar(&f.id, "id", "", "")
	fs.StringVar(&f.at, "time", "", "")
	fs.StringVar(&f.data, "data", "", "")
	fs.StringVar(&f.file, "file", "", "")
	return fs
}

// parseEventFlags parses args with fs and checks that they describe one event: --file, or
// --type with --data or key=value pairs.
func parseEventFlags(fs *flag.FlagSet, f *publishFlags, args []string) error {
	name := fs.Name()
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usagef("%s: %v", name, err)
	}
	f.pairs = fs.Args()
	set := map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	switch {
	case f.file != "":
		for _, flagName := range []string{"type", "tenant", "source", "severity", "id", "time", "data"} {
			if set[flagName] {
				return usagef("%s: --%s cannot be used with --file, which holds the whole event", name, flagName)
			}
		}
		if len(f.pairs) > 0 {
			return usagef("%s: key=value data cannot be used with --file, which holds the whole event", name)
		}
	case f.eventType == "":
		return usagef("%s: --type or --file is required", name)
	case set["data"] && len(f.pairs) > 0:
		return usagef("%s: give --data or key=value pairs, not both", name)
	}
	return nil
}

// buildEvent makes the event the flags describe; for --file it returns the file's bytes.
func buildEvent(f publishFlags, stdin io.Reader) (*sdk.Event, []byte, error) {
	if f.file != "" {
		body, err := readFile(f.file, stdin)
		if err != nil {
			return nil, nil, err
		}
		e, err := sdk.Decode(body)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.file, err)
		}
		if err := sdk.ValidateData(e.Type, e.Data); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f.file, err)
		}
		return e, body, nil
	}

	var data json.RawMessage
	if f.data != "" {
		data = json.RawMessage(f.data)
	} else {
		var err error
		if data, err = parseData(f.pairs); err != nil {
			return nil, nil, usagef("%s: %v", f.cmd, err)
		}
	}
	opts := []sdk.Option{sdk.WithSource(f.source)}
	if f.severity != "" {
		opts = append(opts, sdk.WithSeverity(sdk.Severity(f.severity)))
	}
	if f.id != "" {
		opts = append(opts, sdk.WithID(f.id))
	}
	if f.at != "" {
		at, err := time.Parse(time.RFC3339Nano, f.at)
		if err != nil {
			return nil, nil, usagef("%s: --time %q is not an RFC 3339 time such as 2025-03-01T12:00:00Z", f.cmd, f.at)
		}
		opts = append(opts, sdk.WithTime(at))
	}
	var raw any // a nil json.RawMessage would be data "null"
	if data != nil {
		raw = data
	}
	e, err := sdk.New(f.eventType, f.tenant, raw, opts...)
	if err != nil {
		return nil, nil, err
	}
	return e, nil, nil
}

func readFile(name string, stdin io.Reader) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if name == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	return bytes.TrimSpace(b), nil
}

// result is what --json prints.
type result struct {
	ID        string `json:"id"`
	Subject   string `json:"subject"`
	Stream    string `json:"stream"`
	Sequence  uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

func publish(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	f, err := parsePublishFlags(args)
	if err != nil {
		return err
	}
	e, body, err := buildEvent(f, stdin)
	if err != nil {
		return err
	}

	natsURL, opts, err := connection(getenv)
	if err != nil {
		return fmt.Errorf("NOTIFICATIONS_NATS_CREDS: %w", err)
	}
	prefix := envOr(getenv, "NOTIFICATIONS_SUBJECT_PREFIX", sdk.DefaultSubjectPrefix)
	nc, err := nats.Connect(natsURL, append(opts, nats.Name("publisher-sdk"))...)
	if err != nil {
		return fmt.Errorf("connect to NATS at %s (NOTIFICATIONS_NATS_URL): %w", redactURLs(natsURL), err)
	}
	defer nc.Close()
	pub, err := sdk.NewPublisher(nc, sdk.WithSubjectPrefix(prefix), sdk.WithPublishTimeout(f.timeout))
	if err != nil {
		return fmt.Errorf("NOTIFICATIONS_SUBJECT_PREFIX: %w", err)
	}

	var ack sdk.PubAck
	if body != nil {
		ack, err = pub.PublishJSON(ctx, body)
	} else {
		ack, err = pub.Publish(ctx, e)
	}
	if err != nil {
		return err
	}

	if f.json {
		return json.NewEncoder(stdout).Encode(result{ID: e.ID, Subject: e.Subject(prefix), Stream: ack.Stream,
			Sequence: ack.Sequence, Duplicate: ack.Duplicate})
	}
	dup := ""
	if ack.Duplicate {
		dup = " duplicate"
	}
	_, err = fmt.Fprintf(stdout, "published %s stream=%s seq=%d%s\n", e.ID, ack.Stream, ack.Sequence, dup)
	return err
}

func envOr(getenv func(string) string, name, def string) string {
	if v := strings.TrimSpace(getenv(name)); v != "" {
		return v
	}
	return def
}

// redactURLs hides the user information (user and password, or a token) of each
// comma-separated URL, so that an error never prints credentials.
func redactURLs(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		u, err := url.Parse(strings.TrimSpace(p))
		switch {
		case err != nil:
			if strings.Contains(p, "@") {
				parts[i] = "<unparsable URL>"
			}
		case u.User != nil:
			u.User = url.User("REDACTED")
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}
