// Package config reads Herald's NOTIFICATIONS_* environment variables into one typed,
// validated Config. It is the only package that touches the environment; everything below
// cmd/ receives plain structs. An invalid variable is reported by name, and the process stops.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/ssrf"
	"github.com/heraldhq/herald/sdk"
)

// Config is the whole of Herald's configuration. Every field documents its variable and
// default; Load fills them.
type Config struct {
	// Enabled is the master switch (NOTIFICATIONS_ENABLED). Defaults to true. When false,
	// processes start, serve health and metrics, and deliver nothing.
	Enabled bool
	// NATSURL lists the NATS servers (NOTIFICATIONS_NATS_URL). Empty means the embedded server.
	NATSURL string
	// EmbeddedNATSAddr is where the embedded NATS server listens, so that other processes and
	// the publisher CLI reach it (NOTIFICATIONS_EMBEDDED_NATS_ADDR). Defaults to 127.0.0.1:4222.
	EmbeddedNATSAddr string
	// StreamReplicas is the replica count of every stream and of the idempotency bucket
	// (NOTIFICATIONS_STREAM_REPLICAS): 3 on a 3-node cluster. Defaults to 1.
	StreamReplicas int
	// DatabaseURL is the PostgreSQL URL (NOTIFICATIONS_DATABASE_URL). Empty means the
	// embedded SQLite ledger in DataDir.
	DatabaseURL string
	// DataDir keeps the embedded server's and SQLite's files (NOTIFICATIONS_DATA_DIR).
	// Defaults to ./data.
	DataDir string
	// SubjectPrefix is the first token of every subject (NOTIFICATIONS_SUBJECT_PREFIX).
	// Defaults to herald.
	SubjectPrefix string
	// HTTPAddr is the listen address of the process's HTTP server (NOTIFICATIONS_HTTP_ADDR).
	// Port 0 picks a free one. Defaults to the binary's own default.
	HTTPAddr string
	// Routes are the operator's routing rules (NOTIFICATIONS_ROUTES). Nil means every
	// enabled destination receives every event.
	Routes []Route
	// Destinations are the operator's destinations: one per enabled channel from the
	// channel variables, plus those of NOTIFICATIONS_DESTINATIONS.
	Destinations []channel.Destination
	// destVars names the variables each destination came from, by field, for error messages.
	destVars map[string]map[string]string
	// Retry is the retry policy.
	Retry Retry
	// MaxConcurrent caps the sends one worker process runs at once
	// (NOTIFICATIONS_MAX_CONCURRENT). Defaults to 64.
	MaxConcurrent int
	// RetryWorkers caps how many of those sends may be retries (NOTIFICATIONS_RETRY_WORKERS),
	// so that a failing endpoint's retries never take every slot from fresh deliveries.
	// Defaults to a quarter of MaxConcurrent, at least 1.
	RetryWorkers int
	// DestinationConcurrency caps the sends one worker process runs at once to a single
	// destination (NOTIFICATIONS_DESTINATION_MAX_CONCURRENT), so that a destination that stops
	// answering cannot take every send slot before its circuit opens. Defaults to three
	// quarters of MaxConcurrent, at least 1.
	DestinationConcurrency int
	// Circuit configures the circuit breaker of each destination.
	Circuit Circuit
	// SendTimeout bounds one send (NOTIFICATIONS_SEND_TIMEOUT). Defaults to 10s. The
	// deliveries' AckWait is twice this.
	SendTimeout time.Duration
	// DispatchConcurrency is how many events the dispatcher fans out at once
	// (NOTIFICATIONS_DISPATCH_CONCURRENCY). Defaults to 64.
	DispatchConcurrency int
	// IdempotencyWindow is how long a dispatched event id is remembered
	// (NOTIFICATIONS_IDEMPOTENCY_WINDOW). Defaults to 24h.
	IdempotencyWindow time.Duration
	// DuplicateWindow is the streams' Nats-Msg-Id duplicate window
	// (NOTIFICATIONS_DUPLICATE_WINDOW). Defaults to 2m.
	DuplicateWindow time.Duration
	// MaxEventBytes is the largest event the dispatcher accepts (NOTIFICATIONS_MAX_EVENT_BYTES).
	// Defaults to 1 MiB; larger events are dead-lettered with the reason.
	MaxEventBytes int
	// StreamMaxBytes caps the size of each stream, by name (EVENTS, DELIVERIES, RESULTS,
	// DEAD), from NOTIFICATIONS_EVENTS_MAX_BYTES, NOTIFICATIONS_DELIVERIES_MAX_BYTES,
	// NOTIFICATIONS_RESULTS_MAX_BYTES and NOTIFICATIONS_DEAD_MAX_BYTES: sizes such as 10GiB
	// or 512MB, at least 1MiB. Defaults to 4GiB, 2GiB, 1GiB and 1GiB, as streams/ defines
	// them. A full EVENTS drops its oldest events; the others refuse new messages.
	StreamMaxBytes map[string]int64
	// EmbeddedMaxStorage is the embedded NATS server's JetStream storage limit
	// (NOTIFICATIONS_EMBEDDED_MAX_STORAGE). Defaults to 10GiB. The server reserves every
	// stream's limit, so it must be more than StreamMaxBytes together; the rest holds the
	// idempotency record.
	EmbeddedMaxStorage int64
	// Recorder enables the RESULTS-to-ledger recorder in the dispatcher process
	// (NOTIFICATIONS_RECORDER_ENABLED). Defaults to true.
	Recorder bool
	// RecorderBatch is the most results written in one transaction
	// (NOTIFICATIONS_RECORDER_BATCH). Defaults to 500.
	RecorderBatch int
	// RecorderFlush is the longest a result waits for its batch to fill
	// (NOTIFICATIONS_RECORDER_FLUSH). Defaults to 50ms.
	RecorderFlush time.Duration
	// TemplatesDir holds operator templates that replace or add to the embedded ones
	// (NOTIFICATIONS_TEMPLATES_DIR), laid out as <channel>/<event type>.tmpl. Empty means the
	// embedded templates alone.
	TemplatesDir string
	// AdminToken guards the admin API (NOTIFICATIONS_ADMIN_TOKEN). Empty disables it, except
	// in the embedded default, which generates one into DataDir at first start.
	AdminToken string
	// SecretsKey lists the keys that encrypt tenant destinations' secrets at rest
	// (NOTIFICATIONS_SECRETS_KEY): comma-separated base64 32-byte keys, the first encrypting
	// and all decrypting. Empty means the key file in DataDir on the embedded default, and
	// no tenant destinations otherwise. Parsed and checked by Load; see package secretbox.
	SecretsKey string
	// SSRFAllow lists the networks tenant destinations may reach although they are
	// loopback, private, link-local, CGNAT or cloud metadata (NOTIFICATIONS_SSRF_ALLOW):
	// comma-separated CIDRs or addresses. The operator's own destinations are trusted.
	SSRFAllow ssrf.Policy
	// DisableAfter is how long a tenant destination may fail without one success before it
	// is disabled and destination.disabled is published
	// (NOTIFICATIONS_DESTINATION_DISABLE_AFTER). Defaults to 24h; 0 never disables.
	DisableAfter time.Duration
	// LogLevel is debug, info, warn or error (NOTIFICATIONS_LOG_LEVEL). Defaults to info.
	LogLevel string
	// LogFormat is auto, text or json (NOTIFICATIONS_LOG_FORMAT). Defaults to auto: tint on
	// a terminal, JSON otherwise.
	LogFormat string

	// NATSCreds is the file holding the process's NATS credentials (NOTIFICATIONS_NATS_CREDS):
	// the nkey seed of its role, as the credentials command writes it, or a .creds file (user
	// JWT and seed) for servers in operator mode. Empty means none, except without
	// NOTIFICATIONS_NATS_URL, where each process takes its role's seed from the embedded
	// default's DataDir/nats-credentials. See docs/security.md.
	NATSCreds string
	// NATSTLSCA is a PEM file of the CAs that sign the NATS servers' certificates
	// (NOTIFICATIONS_NATS_TLS_CA); setting it turns TLS on. Empty means the system's roots
	// for tls:// URLs, and no TLS otherwise.
	NATSTLSCA string
	// NATSTLSCert and NATSTLSKey are the client certificate and key, PEM, for NATS servers
	// that verify clients (NOTIFICATIONS_NATS_TLS_CERT, NOTIFICATIONS_NATS_TLS_KEY): both or
	// neither.
	NATSTLSCert, NATSTLSKey string
}

// Circuit configures the per-destination circuit breaker of the channel workers. A circuit
// opens when, within Window, at least MinFailures sends failed transiently and they were at
// least FailureRate of the sends; an open circuit holds deliveries, without spending their
// attempts, until one probe finds the destination back.
type Circuit struct {
	// MinFailures is the least number of failed sends within the window that can open a
	// circuit (NOTIFICATIONS_CIRCUIT_THRESHOLD); 0 disables the breaker. Defaults to 10.
	MinFailures int
	// FailureRate is the failed share of the window's sends that opens a circuit
	// (NOTIFICATIONS_CIRCUIT_FAILURE_RATE), between 0 and 1. Defaults to 0.5.
	FailureRate float64
	// Window is how far back sends are counted (NOTIFICATIONS_CIRCUIT_WINDOW). Defaults to 1m.
	Window time.Duration
	// Cooldown is how long an open circuit holds deliveries before one probe
	// (NOTIFICATIONS_CIRCUIT_COOLDOWN); it doubles after each failed probe. Defaults to 30s.
	Cooldown time.Duration
	// MaxCooldown caps the doubling (NOTIFICATIONS_CIRCUIT_MAX_COOLDOWN). Defaults to 5m.
	MaxCooldown time.Duration
}

// Retry is the retry policy of the channel workers.
type Retry struct {
	// MaxRetries is the number of retries after the first attempt (NOTIFICATIONS_MAX_RETRIES).
	// Defaults to 3.
	MaxRetries int
	// Backoff lists the delays before each retry (NOTIFICATIONS_RETRY_BACKOFF); retries past
	// the list keep doubling the last one. Defaults to 5s,10s,20s,40s,80s.
	Backoff []time.Duration
	// MaxDelay caps any one delay, a provider's Retry-After included
	// (NOTIFICATIONS_RETRY_MAX_DELAY). Defaults to 5m.
	MaxDelay time.Duration
}

// Attempts is the total number of attempts a delivery gets.
func (r Retry) Attempts() int { return r.MaxRetries + 1 }

// Route sends events whose type matches Pattern to Targets. A pattern is a glob over the
// event type ("payment.*", "node.*", "*"); a target names a channel (every operator
// destination of that channel) or one destination by id.
type Route struct {
	Pattern string
	Targets []string
}

// Matches reports whether the event type matches the route's pattern.
func (r Route) Matches(eventType string) bool {
	ok, _ := path.Match(r.Pattern, eventType)
	if ok {
		return true
	}
	// "*" and "payment.*" read naturally as "everything below": let a trailing "*" span dots.
	if p, found := strings.CutSuffix(r.Pattern, "*"); found {
		return strings.HasPrefix(eventType, p)
	}
	return false
}

// Getenv looks a variable up; os.Getenv fits, and tests pass a map.
type Getenv func(string) string

// Error names the variable that is wrong.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return e.Var + ": " + e.Reason }

// Load reads and validates the configuration. defaultHTTPAddr is the binary's own listen
// default.
func Load(getenv Getenv, defaultHTTPAddr string) (*Config, error) {
	l := loader{get: getenv}
	c := &Config{
		Enabled:          l.boolean("NOTIFICATIONS_ENABLED", true),
		NATSURL:          l.str("NOTIFICATIONS_NATS_URL", ""),
		EmbeddedNATSAddr: l.str("NOTIFICATIONS_EMBEDDED_NATS_ADDR", "127.0.0.1:4222"),
		StreamReplicas:   l.integer("NOTIFICATIONS_STREAM_REPLICAS", 1, 1),
		DatabaseURL:      l.str("NOTIFICATIONS_DATABASE_URL", ""),
		DataDir:          l.str("NOTIFICATIONS_DATA_DIR", "data"),
		SubjectPrefix:    l.str("NOTIFICATIONS_SUBJECT_PREFIX", "herald"),
		HTTPAddr:         l.str("NOTIFICATIONS_HTTP_ADDR", defaultHTTPAddr),
		MaxConcurrent:    l.integer("NOTIFICATIONS_MAX_CONCURRENT", 64, 1),
		SendTimeout:      l.duration("NOTIFICATIONS_SEND_TIMEOUT", 10*time.Second),
		Circuit: Circuit{
			MinFailures: l.integer("NOTIFICATIONS_CIRCUIT_THRESHOLD", 10, 0),
			FailureRate: l.fraction("NOTIFICATIONS_CIRCUIT_FAILURE_RATE", 0.5),
			Window:      l.duration("NOTIFICATIONS_CIRCUIT_WINDOW", time.Minute),
			Cooldown:    l.duration("NOTIFICATIONS_CIRCUIT_COOLDOWN", 30*time.Second),
			MaxCooldown: l.duration("NOTIFICATIONS_CIRCUIT_MAX_COOLDOWN", 5*time.Minute),
		},
		DispatchConcurrency: l.integer("NOTIFICATIONS_DISPATCH_CONCURRENCY", 64, 1),
		IdempotencyWindow:   l.duration("NOTIFICATIONS_IDEMPOTENCY_WINDOW", 24*time.Hour),
		DuplicateWindow:     l.duration("NOTIFICATIONS_DUPLICATE_WINDOW", 2*time.Minute),
		MaxEventBytes:       l.integer("NOTIFICATIONS_MAX_EVENT_BYTES", sdk.DefaultMaxEventBytes, 1024),
		Recorder:            l.boolean("NOTIFICATIONS_RECORDER_ENABLED", true),
		RecorderBatch:       l.integer("NOTIFICATIONS_RECORDER_BATCH", 500, 1),
		RecorderFlush:       l.duration("NOTIFICATIONS_RECORDER_FLUSH", 50*time.Millisecond),
		AdminToken:          l.str("NOTIFICATIONS_ADMIN_TOKEN", ""),
		SecretsKey:          l.str("NOTIFICATIONS_SECRETS_KEY", ""),
		SSRFAllow:           l.ssrfAllow("NOTIFICATIONS_SSRF_ALLOW"),
		DisableAfter:        l.durationOrZero("NOTIFICATIONS_DESTINATION_DISABLE_AFTER", 24*time.Hour),
		TemplatesDir:        l.str("NOTIFICATIONS_TEMPLATES_DIR", ""),
		LogLevel:            l.oneOf("NOTIFICATIONS_LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		LogFormat:           l.oneOf("NOTIFICATIONS_LOG_FORMAT", "auto", "auto", "text", "json"),
		Retry: Retry{
			MaxRetries: l.integer("NOTIFICATIONS_MAX_RETRIES", 3, 0),
			Backoff:    l.durations("NOTIFICATIONS_RETRY_BACKOFF", "5s,10s,20s,40s,80s"),
			MaxDelay:   l.duration("NOTIFICATIONS_RETRY_MAX_DELAY", 5*time.Minute),
		},
	}
	c.RetryWorkers = l.integer("NOTIFICATIONS_RETRY_WORKERS", max(1, c.MaxConcurrent/4), 1)
	c.DestinationConcurrency = l.integer("NOTIFICATIONS_DESTINATION_MAX_CONCURRENT", max(1, c.MaxConcurrent*3/4), 1)
	if c.RetryWorkers > c.MaxConcurrent {
		l.fail("NOTIFICATIONS_RETRY_WORKERS", fmt.Sprintf("%d is more than NOTIFICATIONS_MAX_CONCURRENT (%d)", c.RetryWorkers, c.MaxConcurrent))
	}
	if c.SecretsKey != "" {
		if _, err := secretbox.ParseKeys(c.SecretsKey); err != nil {
			l.fail("NOTIFICATIONS_SECRETS_KEY", err.Error())
		}
	}
	if !sdk.ValidTenant(c.SubjectPrefix) {
		l.fail("NOTIFICATIONS_SUBJECT_PREFIX", fmt.Sprintf("%q must be one subject token of letters, digits, '-' and '_'", c.SubjectPrefix))
	}
	if c.DuplicateWindow < 100*time.Millisecond {
		l.fail("NOTIFICATIONS_DUPLICATE_WINDOW", "must be at least 100ms")
	}
	if c.IdempotencyWindow < time.Second {
		l.fail("NOTIFICATIONS_IDEMPOTENCY_WINDOW", "must be at least 1s")
	}
	if c.DatabaseURL != "" {
		// Found now, before NATS and the dispatcher start, and named.
		if problem := databaseURLProblem(c.DatabaseURL); problem != "" {
			l.fail("NOTIFICATIONS_DATABASE_URL", problem)
		}
	}
	c.StreamMaxBytes, c.EmbeddedMaxStorage = l.storage(c.NATSURL == "")
	c.Destinations, c.destVars = l.destinations()
	c.Routes = l.routes(c.Destinations)
	c.NATSCreds, c.NATSTLSCA, c.NATSTLSCert, c.NATSTLSKey = l.natsSecurity()
	if l.err != nil {
		return nil, l.err
	}
	return c, nil
}

// Channels returns the names of the channels that have at least one destination.
func (c *Config) Channels() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range c.Destinations {
		if !seen[d.Channel] {
			seen[d.Channel] = true
			out = append(out, d.Channel)
		}
	}
	return out
}

// VarOf names the variable that configured one field of a destination ("url", "secret",
// "method", "headers", "to", ...), or the destination's main variable for any other field.
func (c *Config) VarOf(destinationID, field string) string {
	vars, ok := c.destVars[destinationID]
	if !ok {
		return "NOTIFICATIONS_DESTINATIONS"
	}
	if v, ok := vars[field]; ok {
		return v
	}
	return vars[""]
}

// Secrets lists every secret in the configuration, for masking in logs.
func (c *Config) Secrets() []string {
	var out []string
	for _, d := range c.Destinations {
		out = append(out, d.Secrets()...)
	}
	if c.AdminToken != "" {
		out = append(out, c.AdminToken)
	}
	if c.SecretsKey != "" {
		for _, k := range strings.Split(c.SecretsKey, ",") {
			out = append(out, strings.TrimSpace(k))
		}
	}
	return out
}

type loader struct {
	get Getenv
	err error
}

func (l *loader) fail(name, reason string) {
	if l.err == nil {
		l.err = &Error{Var: name, Reason: reason}
	}
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.get(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) boolean(name string, def bool) bool {
	v := strings.TrimSpace(l.get(name))
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, fmt.Sprintf("%q is not a boolean (true or false)", v))
	}
	return b
}

func (l *loader) integer(name string, def, min int) int {
	v := strings.TrimSpace(l.get(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.fail(name, fmt.Sprintf("%q is not a whole number", v))
		return def
	}
	if n < min {
		l.fail(name, fmt.Sprintf("%d is less than %d", n, min))
	}
	return n
}

// fraction reads a number in (0, 1].
func (l *loader) fraction(name string, def float64) float64 {
	v := strings.TrimSpace(l.get(name))
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > 1 {
		l.fail(name, fmt.Sprintf("%q is not a fraction above 0 and at most 1, such as 0.5", v))
		return def
	}
	return f
}

func (l *loader) duration(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(l.get(name))
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		l.fail(name, fmt.Sprintf("%q is not a positive duration such as 5s or 2m", v))
		return def
	}
	return d
}

// size reads a size such as 10GiB, 512MB or 1048576 (bytes).
func (l *loader) size(name string, def, min int64) int64 {
	v := strings.TrimSpace(l.get(name))
	if v == "" {
		return def
	}
	n, err := humanize.ParseBytes(v)
	if err != nil || n > math.MaxInt64 {
		l.fail(name, fmt.Sprintf("%q is not a size such as 10GiB or 512MB", v))
		return def
	}
	if int64(n) < min {
		l.fail(name, fmt.Sprintf("%s is less than %s", humanize.IBytes(n), humanize.IBytes(uint64(min))))
	}
	return int64(n)
}

// storage reads the streams' size limits and the embedded server's storage, which must hold
// them all: the server reserves each stream's limit when it creates the stream.
func (l *loader) storage(embedded bool) (map[string]int64, int64) {
	streams := []struct {
		stream, name string
		def          int64
	}{
		{"EVENTS", "NOTIFICATIONS_EVENTS_MAX_BYTES", 4 << 30},
		{"DELIVERIES", "NOTIFICATIONS_DELIVERIES_MAX_BYTES", 2 << 30},
		{"RESULTS", "NOTIFICATIONS_RESULTS_MAX_BYTES", 1 << 30},
		{"DEAD", "NOTIFICATIONS_DEAD_MAX_BYTES", 1 << 30},
	}
	limits := make(map[string]int64, len(streams))
	var sum int64
	names := make([]string, 0, len(streams))
	for _, s := range streams {
		limits[s.stream] = l.size(s.name, s.def, 1<<20)
		sum += limits[s.stream]
		names = append(names, s.name)
	}
	const name = "NOTIFICATIONS_EMBEDDED_MAX_STORAGE"
	storage := l.size(name, 10<<30, 1<<20)
	if embedded && storage <= sum {
		l.fail(name, fmt.Sprintf("%s cannot hold the streams' limits together (%s: %s), which the embedded server reserves; raise it or lower those",
			humanize.IBytes(uint64(storage)), humanize.IBytes(uint64(sum)), strings.Join(names, ", ")))
	}
	return limits, storage
}

func (l *loader) durations(name, def string) []time.Duration {
	v := l.str(name, def)
	var out []time.Duration
	for _, part := range strings.Split(v, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d <= 0 {
			l.fail(name, fmt.Sprintf("%q is not a comma-separated list of positive durations such as 5s,10s,20s", v))
			return nil
		}
		out = append(out, d)
	}
	return out
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, fmt.Sprintf("%q is not one of %s", v, strings.Join(allowed, ", ")))
	return def
}

func (l *loader) jsonVar(name string, into any) bool {
	v := strings.TrimSpace(l.get(name))
	if v == "" {
		return false
	}
	if err := json.Unmarshal([]byte(v), into); err != nil {
		l.fail(name, "is not valid JSON: "+err.Error())
		return false
	}
	return true
}

// destinations builds the operator's destinations: one per enabled channel, from each
// channel's variables (see channel.Provider), plus those of NOTIFICATIONS_DESTINATIONS.
func (l *loader) destinations() ([]channel.Destination, map[string]map[string]string) {
	var out []channel.Destination
	vars := map[string]map[string]string{}
	providers := map[string]channel.Provider{}
	for _, p := range all.Providers() {
		providers[p.Name()] = p
		spec := p.Spec()
		if problem, name := l.envURLProblem(spec); problem != "" {
			l.fail(name, problem)
			continue
		}
		cfg, err := channel.ConfigFromEnv(spec, l.get)
		if err != nil {
			var ve *channel.VarError
			if errors.As(err, &ve) {
				l.fail(ve.Var, tidyReason(ve.Reason, p.Name(), fieldOfVar(spec, ve.Var)))
			} else {
				l.fail(spec.EnabledVar, err.Error())
			}
			continue
		}
		if cfg == nil {
			continue
		}
		out = append(out, channel.Destination{ID: p.Name(), Channel: p.Name(), Config: cfg})
		v := map[string]string{"": spec.EnabledVar}
		for _, f := range spec.Fields {
			if f.Env != "" {
				v[f.Name] = f.Env
			}
		}
		vars[p.Name()] = v
	}
	out = append(out, l.extraDestinations(providers)...)

	seen := map[string]bool{}
	for i, d := range out {
		switch {
		case d.ID == "" || !sdk.ValidTenant(d.ID):
			l.fail("NOTIFICATIONS_DESTINATIONS", fmt.Sprintf("destination %d: id %q must be one token of letters, digits, '-' and '_'", i, d.ID))
		case seen[d.ID]:
			l.fail("NOTIFICATIONS_DESTINATIONS", fmt.Sprintf("destination id %q is used twice", d.ID))
		}
		seen[d.ID] = true
	}
	return out, vars
}

// extraDestinations reads NOTIFICATIONS_DESTINATIONS: a JSON array of destinations shaped as
// the API's, {"id","channel","config":{...}}. An entry without "config" is read the way
// earlier versions wrote them, with the configuration's fields beside id and channel and a
// Discord or Slack webhook's URL as "url".
func (l *loader) extraDestinations(providers map[string]channel.Provider) []channel.Destination {
	const name = "NOTIFICATIONS_DESTINATIONS"
	var raw []map[string]json.RawMessage
	if !l.jsonVar(name, &raw) {
		return nil
	}
	out := make([]channel.Destination, 0, len(raw))
	for i, obj := range raw {
		var id, ch string
		if err := errors.Join(json.Unmarshal(orNull(obj["id"]), &id), json.Unmarshal(orNull(obj["channel"]), &ch)); err != nil {
			l.fail(name, fmt.Sprintf("destination %d: id and channel must be strings", i))
			return nil
		}
		p, ok := providers[ch]
		if !ok {
			l.fail(name, fmt.Sprintf("destination %q: channel %q is not built into Herald (known: %s)", id, ch, strings.Join(slices.Sorted(maps.Keys(providers)), ", ")))
			return nil
		}
		spec := p.Spec()
		cfgJSON, ok := obj["config"]
		if !ok {
			legacy := map[string]json.RawMessage{}
			for k, v := range obj {
				if k == "id" || k == "channel" {
					continue
				}
				if _, has := spec.Field(k); !has && k == "url" {
					k = "webhook_url"
				}
				legacy[k] = v
			}
			cfgJSON, _ = json.Marshal(legacy)
		}
		cfg, err := channel.DecodeConfig(spec, cfgJSON)
		if err != nil {
			l.fail(name, fmt.Sprintf("destination %q: %s", id, tidyReason(err.Error(), ch, fieldOf(err))))
			return nil
		}
		out = append(out, channel.Destination{ID: id, Channel: ch, Config: cfg})
	}
	return out
}

func orNull(b json.RawMessage) json.RawMessage {
	if b == nil {
		return json.RawMessage("null")
	}
	return b
}

func (l *loader) required(name string) string {
	v := strings.TrimSpace(l.get(name))
	if v == "" {
		l.fail(name, "is required when its channel is enabled")
	}
	return v
}

// routes parses NOTIFICATIONS_ROUTES, a JSON object from pattern to targets. Object keys are
// kept in the order written, though order does not matter: every matching rule applies.
func (l *loader) routes(dests []channel.Destination) []Route {
	const name = "NOTIFICATIONS_ROUTES"
	var raw map[string][]string
	if !l.jsonVar(name, &raw) {
		return nil
	}
	known := map[string]bool{}
	for _, d := range dests {
		known[d.ID] = true
		known[d.Channel] = true
	}
	out := make([]Route, 0, len(raw))
	for pattern, targets := range raw {
		if _, err := path.Match(pattern, ""); err != nil || pattern == "" {
			l.fail(name, fmt.Sprintf("pattern %q is not a valid glob", pattern))
		}
		for _, t := range targets {
			if !known[t] {
				l.fail(name, fmt.Sprintf("pattern %q names %q, which is neither an enabled channel nor a destination id", pattern, t))
			}
		}
		out = append(out, Route{Pattern: pattern, Targets: targets})
	}
	return out
}

// durationOrZero reads a duration that may also be 0 ("0" or "0s"), meaning off.
func (l *loader) durationOrZero(name string, def time.Duration) time.Duration {
	v := strings.TrimSpace(l.get(name))
	if v == "0" {
		return 0
	}
	if d, err := time.ParseDuration(v); err == nil && d == 0 {
		return 0
	}
	return l.duration(name, def)
}

// ssrfAllow reads a list of networks exempted from the SSRF policy.
func (l *loader) ssrfAllow(name string) ssrf.Policy {
	p, err := ssrf.ParseAllow(l.get(name))
	if err != nil {
		l.fail(name, err.Error())
	}
	return p
}

// natsSecurity reads the NATS credentials and TLS files, checking that each is readable (a
// seed file also that it holds a seed), so that a wrong path stops the process at start
// with its variable, not at the first connect. Their contents are never quoted.
func (l *loader) natsSecurity() (creds, ca, cert, key string) {
	creds = l.str("NOTIFICATIONS_NATS_CREDS", "")
	ca = l.str("NOTIFICATIONS_NATS_TLS_CA", "")
	cert = l.str("NOTIFICATIONS_NATS_TLS_CERT", "")
	key = l.str("NOTIFICATIONS_NATS_TLS_KEY", "")
	if creds != "" {
		if _, err := natsauth.PublicKeyOf(creds); err != nil {
			l.fail("NOTIFICATIONS_NATS_CREDS", err.Error())
		}
	}
	for _, f := range []struct{ name, path string }{
		{"NOTIFICATIONS_NATS_TLS_CA", ca}, {"NOTIFICATIONS_NATS_TLS_CERT", cert}, {"NOTIFICATIONS_NATS_TLS_KEY", key},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			l.fail(f.name, err.Error())
		}
	}
	if (cert == "") != (key == "") {
		l.fail("NOTIFICATIONS_NATS_TLS_CERT", "a client certificate needs its key (NOTIFICATIONS_NATS_TLS_KEY), and a key its certificate")
	}
	return creds, ca, cert, key
}
