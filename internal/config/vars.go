package config

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/heraldhq/herald/internal/channel/all"
)

// Var documents one variable that Load reads: its name, its default as the variable would
// hold it, and what it means in one line. The binaries' "env" argument prints them, and a
// test of this package checks that Load reads exactly these variables and that each
// literal default is what Load assumes when the variable is unset, so that the list cannot
// drift from Load.
type Var struct {
	// Name is the variable, NOTIFICATIONS_...
	Name string
	// Default is the value Load assumes when the variable is unset, as the variable would
	// hold it; empty when unset means off or none.
	Default string
	// Computed says that Default describes a value derived from other variables or from
	// the binary (such as "a quarter of NOTIFICATIONS_MAX_CONCURRENT"), not a literal.
	Computed bool
	// Doc says what the variable does, in one line.
	Doc string
}

// general lists the variables of the fleet itself, in the order of the documentation. A new
// variable of Load belongs here as well; the package's test names any that is missing.
var general = []Var{
	{Name: "NOTIFICATIONS_ENABLED", Default: "true", Doc: "master switch; false serves health and metrics only"},
	{Name: "NOTIFICATIONS_NATS_URL", Doc: "NATS servers, comma-separated; unset runs or reaches the embedded server"},
	{Name: "NOTIFICATIONS_NATS_CREDS", Doc: "file with this process's NATS credentials (an nkey seed or a .creds file)"},
	{Name: "NOTIFICATIONS_NATS_TLS_CA", Doc: "PEM file of the CAs of the NATS servers' certificates; setting it turns TLS on"},
	{Name: "NOTIFICATIONS_NATS_TLS_CERT", Doc: "PEM client certificate for NATS servers that verify clients (with NOTIFICATIONS_NATS_TLS_KEY)"},
	{Name: "NOTIFICATIONS_NATS_TLS_KEY", Doc: "PEM key of NOTIFICATIONS_NATS_TLS_CERT"},
	{Name: "NOTIFICATIONS_EMBEDDED_NATS_ADDR", Default: "127.0.0.1:4222", Doc: "where the embedded NATS server listens (workers and the publisher CLI connect there)"},
	{Name: "NOTIFICATIONS_EMBEDDED_MAX_STORAGE", Default: "10GiB", Doc: "JetStream storage of the embedded server; more than the four streams' limits together"},
	{Name: "NOTIFICATIONS_STREAM_REPLICAS", Default: "1", Doc: "replicas of every stream and bucket (3 on a 3-node cluster)"},
	{Name: "NOTIFICATIONS_DATABASE_URL", Doc: "PostgreSQL URL of the ledger (postgres://user:password@host:5432/db); unset means SQLite in the data directory"},
	{Name: "NOTIFICATIONS_DATA_DIR", Default: "data", Doc: "files of the embedded NATS server, SQLite, the admin token and the keys"},
	{Name: "NOTIFICATIONS_SUBJECT_PREFIX", Default: "herald", Doc: "first token of every subject"},
	{Name: "NOTIFICATIONS_HTTP_ADDR", Computed: true, Doc: "listen address of /metrics, /healthz, /readyz and the API; port 0 picks one"},
	{Name: "NOTIFICATIONS_ROUTES", Doc: `operator routing, JSON: event type glob to channels or destination ids, e.g. {"payment.*":["slack"],"*":["webhook"]}; unset sends every event everywhere`},
	{Name: "NOTIFICATIONS_DESTINATIONS", Doc: `more operator destinations, JSON: [{"id":"audit","channel":"webhook","config":{...}}]`},
	{Name: "NOTIFICATIONS_MAX_RETRIES", Default: "3", Doc: "retries after the first attempt"},
	{Name: "NOTIFICATIONS_RETRY_BACKOFF", Default: "5s,10s,20s,40s,80s", Doc: "delays before each retry; past the list the last one doubles"},
	{Name: "NOTIFICATIONS_RETRY_MAX_DELAY", Default: "5m", Doc: "cap on any one delay, a provider's Retry-After included"},
	{Name: "NOTIFICATIONS_MAX_CONCURRENT", Default: "64", Doc: "sends one worker process runs at once"},
	{Name: "NOTIFICATIONS_RETRY_WORKERS", Default: "a quarter of NOTIFICATIONS_MAX_CONCURRENT", Computed: true, Doc: "how many of those sends may be retries"},
	{Name: "NOTIFICATIONS_DESTINATION_MAX_CONCURRENT", Default: "three quarters of NOTIFICATIONS_MAX_CONCURRENT", Computed: true, Doc: "sends one worker process runs at once to a single destination"},
	{Name: "NOTIFICATIONS_SEND_TIMEOUT", Default: "10s", Doc: "bound on one send; the deliveries' AckWait is twice this"},
	{Name: "NOTIFICATIONS_CIRCUIT_THRESHOLD", Default: "10", Doc: "failed sends within the window that can open a destination's circuit; 0 disables the breaker"},
	{Name: "NOTIFICATIONS_CIRCUIT_FAILURE_RATE", Default: "0.5", Doc: "failed share of the window's sends that opens a circuit"},
	{Name: "NOTIFICATIONS_CIRCUIT_WINDOW", Default: "1m", Doc: "how far back a destination's sends are counted"},
	{Name: "NOTIFICATIONS_CIRCUIT_COOLDOWN", Default: "30s", Doc: "how long an open circuit holds deliveries before one probe; doubles after a failed probe"},
	{Name: "NOTIFICATIONS_CIRCUIT_MAX_COOLDOWN", Default: "5m", Doc: "the longest cooldown"},
	{Name: "NOTIFICATIONS_DISPATCH_CONCURRENCY", Default: "64", Doc: "events the dispatcher fans out at once"},
	{Name: "NOTIFICATIONS_IDEMPOTENCY_WINDOW", Default: "24h", Doc: "how long a dispatched event id is remembered"},
	{Name: "NOTIFICATIONS_DUPLICATE_WINDOW", Default: "2m", Doc: "the streams' Nats-Msg-Id duplicate window"},
	{Name: "NOTIFICATIONS_MAX_EVENT_BYTES", Default: "1048576", Doc: "largest event the dispatcher accepts; larger ones are dead-lettered"},
	{Name: "NOTIFICATIONS_EVENTS_MAX_BYTES", Default: "4GiB", Doc: "size of the EVENTS stream (the replay log); full, it drops its oldest events"},
	{Name: "NOTIFICATIONS_DELIVERIES_MAX_BYTES", Default: "2GiB", Doc: "size of the DELIVERIES stream; full, it refuses new deliveries"},
	{Name: "NOTIFICATIONS_RESULTS_MAX_BYTES", Default: "1GiB", Doc: "size of the RESULTS stream"},
	{Name: "NOTIFICATIONS_DEAD_MAX_BYTES", Default: "1GiB", Doc: "size of the DEAD stream"},
	{Name: "NOTIFICATIONS_RECORDER_ENABLED", Default: "true", Doc: "run the ledger recorder in the dispatcher process"},
	{Name: "NOTIFICATIONS_RECORDER_BATCH", Default: "500", Doc: "most results written to the ledger in one transaction"},
	{Name: "NOTIFICATIONS_RECORDER_FLUSH", Default: "50ms", Doc: "longest a result waits for its batch to fill"},
	{Name: "NOTIFICATIONS_TEMPLATES_DIR", Doc: "your templates, as <channel>/<event type>.tmpl, over the embedded ones"},
	{Name: "NOTIFICATIONS_ADMIN_TOKEN", Doc: "the admin API's bearer token; unset: generated into the data directory by the embedded default, else the admin API is off"},
	{Name: "NOTIFICATIONS_SECRETS_KEY", Doc: "base64 32-byte keys, comma-separated, sealing tenant destinations' secrets (the first seals, all open); unset: a key file in the data directory on the embedded default"},
	{Name: "NOTIFICATIONS_SSRF_ALLOW", Doc: "CIDRs tenant destinations may reach although internal (loopback, private, link-local, CGNAT, metadata)"},
	{Name: "NOTIFICATIONS_DESTINATION_DISABLE_AFTER", Default: "24h", Doc: "how long a tenant destination may fail without a success before it is disabled; 0 never"},
	{Name: "NOTIFICATIONS_LOG_LEVEL", Default: "info", Doc: "debug, info, warn or error"},
	{Name: "NOTIFICATIONS_LOG_FORMAT", Default: "auto", Doc: "auto (tint on a terminal, JSON otherwise), text or json"},
}

// Vars lists every variable Load reads: the fleet's, then each channel's switch and fields,
// from the channels' own descriptions. httpAddr is the binary's default listen address.
func Vars(httpAddr string) []Var {
	out := make([]Var, 0, len(general)+64)
	for _, v := range general {
		if v.Name == "NOTIFICATIONS_HTTP_ADDR" {
			v.Default = httpAddr
		}
		out = append(out, v)
	}
	for _, p := range all.Providers() {
		spec := p.Spec()
		out = append(out, Var{Name: spec.EnabledVar, Default: "false",
			Doc: fmt.Sprintf("true turns on the operator's %s destination (id %q)", p.Name(), p.Name())})
		for _, f := range spec.Fields {
			if f.Env == "" {
				continue
			}
			doc := p.Name() + ": " + f.Doc
			if f.Required {
				doc += "; required"
			}
			out = append(out, Var{Name: f.Env, Default: f.Default, Doc: doc})
		}
	}
	return out
}

// PrintVars writes Vars as an aligned table: name, default ("-" for none), meaning.
func PrintVars(w io.Writer, httpAddr string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tMEANING")
	for _, v := range Vars(httpAddr) {
		def := v.Default
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, def, strings.ReplaceAll(v.Doc, "\n", " "))
	}
	return tw.Flush()
}
