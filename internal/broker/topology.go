// Package broker is Herald's side of NATS JetStream: the subjects, the streams and consumers
// of streams/ applied idempotently at start, the embedded server of the single-machine
// default, and connections that keep trying through an outage.
package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/streams"
)

// The streams Herald runs on.
const (
	StreamEvents     = "EVENTS"
	StreamDeliveries = "DELIVERIES"
	StreamResults    = "RESULTS"
	StreamDead       = "DEAD"
)

// The streams' default size limits, as streams/*.json defines them; Topology.MaxBytes
// overrides them (NOTIFICATIONS_<STREAM>_MAX_BYTES). Together they reserve 8 GiB of the
// NATS server's JetStream storage. A full EVENTS drops its oldest events (it is the replay
// log); the work queues and DEAD refuse new messages instead, so that nothing undelivered,
// unrecorded or not yet redriven is ever dropped: publishers get an error and retry.
const (
	DefaultEventsMaxBytes     int64 = 4 << 30
	DefaultDeliveriesMaxBytes int64 = 2 << 30
	DefaultResultsMaxBytes    int64 = 1 << 30
	DefaultDeadMaxBytes       int64 = 1 << 30
)

// The durable consumers of the fixed components.
const (
	ConsumerDispatcher = "dispatcher"
	ConsumerRecorder   = "recorder"
)

// ErrStreamConflict is returned when a stream of Herald's name exists with settings that
// Herald cannot take over without destroying data (another retention or storage). Herald
// reports it and leaves the stream alone.
var ErrStreamConflict = errors.New("existing stream conflicts with Herald's definition")

// Subjects builds Herald's subjects (see the README) under one prefix.
type Subjects struct{ Prefix string }

// Events is the filter of every event: <prefix>.events.>.
func (s Subjects) Events() string { return s.Prefix + ".events.>" }

// Deliver is the subject of one delivery: <prefix>.deliver.<channel>.<tenant>.
func (s Subjects) Deliver(channel, tenant string) string {
	return s.Prefix + ".deliver." + channel + "." + tenant
}

// Results is the subject of a channel's attempt results: <prefix>.results.<channel>.
func (s Subjects) Results(channel string) string { return s.Prefix + ".results." + channel }

// Dead is the subject of a dead letter: <prefix>.dead.<channel>.<tenant>.
func (s Subjects) Dead(channel, tenant string) string {
	return s.Prefix + ".dead." + channel + "." + tenant
}

// TenantOfEvent returns the tenant token of an event subject, or "" if subject is not one.
func (s Subjects) TenantOfEvent(subject string) string {
	rest, ok := strings.CutPrefix(subject, s.Prefix+".events.")
	if !ok {
		return ""
	}
	tenant, _, _ := strings.Cut(rest, ".")
	return tenant
}

// Topology applies the stream and consumer definitions of streams/.
type Topology struct {
	// Prefix replaces "herald" at the head of every subject. Defaults to herald.
	Prefix string
	// DuplicateWindow overrides every stream's duplicate window when set.
	DuplicateWindow time.Duration
	// Replicas overrides every stream's replica count when above zero (3 on a cluster).
	Replicas int
	// MaxBytes overrides the size limit of the streams it names (EVENTS, DELIVERIES,
	// RESULTS, DEAD) with values above zero. Streams it does not name keep their
	// definition's limit (DefaultEventsMaxBytes, ...).
	MaxBytes map[string]int64
}

// Streams returns the stream definitions with the prefix and overrides applied.
func (t Topology) Streams() ([]jetstream.StreamConfig, error) {
	entries, err := fs.Glob(streams.FS, "*.json")
	if err != nil {
		return nil, err
	}
	var out []jetstream.StreamConfig
	for _, name := range entries {
		var cfg jetstream.StreamConfig
		if err := readJSON(name, &cfg); err != nil {
			return nil, err
		}
		for i, s := range cfg.Subjects {
			cfg.Subjects[i] = t.prefixed(s)
		}
		if t.DuplicateWindow > 0 {
			cfg.Duplicates = t.DuplicateWindow
		}
		if t.Replicas > 0 {
			cfg.Replicas = t.Replicas
		}
		if b := t.MaxBytes[cfg.Name]; b > 0 {
			cfg.MaxBytes = b
		}
		out = append(out, cfg)
	}
	return out, nil
}

// Consumer returns a consumer definition of streams/consumers/<stream>/<file>.json with the
// prefix applied; for the channel template, CHANNEL is replaced by channel.
func (t Topology) Consumer(stream, file, channel string) (jetstream.ConsumerConfig, error) {
	var cfg jetstream.ConsumerConfig
	if err := readJSON(path.Join("consumers", stream, file+".json"), &cfg); err != nil {
		return cfg, err
	}
	if channel != "" {
		cfg.Durable = strings.ReplaceAll(cfg.Durable, "CHANNEL", channel)
		cfg.Description = strings.ReplaceAll(cfg.Description, "CHANNEL", channel)
		cfg.FilterSubject = strings.ReplaceAll(cfg.FilterSubject, "CHANNEL", channel)
	}
	cfg.FilterSubject = t.prefixed(cfg.FilterSubject)
	return cfg, nil
}

func (t Topology) prefixed(subject string) string {
	if t.Prefix == "" || t.Prefix == "herald" {
		return subject
	}
	if rest, ok := strings.CutPrefix(subject, "herald."); ok {
		return t.Prefix + "." + rest
	}
	return subject
}

func readJSON(name string, into any) error {
	b, err := fs.ReadFile(streams.FS, name)
	if err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("parse %s: %w", name, err)
	}
	return nil
}

// StreamManager is the part of jetstream.JetStream that Apply needs.
type StreamManager interface {
	Stream(ctx context.Context, name string) (jetstream.Stream, error)
	CreateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error)
	UpdateStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error)
}

// Apply creates every stream, or brings an existing one to Herald's definition. A stream
// whose retention or storage differs is reported with ErrStreamConflict and left untouched:
// changing either would drop its messages. Apply is idempotent and safe to run from every
// process at once.
func (t Topology) Apply(ctx context.Context, js StreamManager) error {
	cfgs, err := t.Streams()
	if err != nil {
		return err
	}
	for _, cfg := range cfgs {
		if err := RetryUnanswered(ctx, func(actx context.Context) error { return applyStream(actx, js, cfg) }); err != nil {
			return err
		}
	}
	return nil
}

// apiAttempt bounds one attempt at a JetStream API request that RetryUnanswered repeats.
const apiAttempt = 5 * time.Second

// RetryUnanswered runs f with a bound of apiAttempt at a time until it succeeds, fails with an
// answer, or ctx ends. On a cluster, a request of the JetStream API can go unanswered while
// the processes of a deployment, started together, create and look up the same assets at
// once; asking again gets the answer.
func RetryUnanswered(ctx context.Context, f func(context.Context) error) error {
	for {
		actx, cancel := context.WithTimeout(ctx, apiAttempt)
		err := f(actx)
		cancel()
		if err == nil || !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func applyStream(ctx context.Context, js StreamManager, want jetstream.StreamConfig) error {
	s, err := js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = js.CreateStream(ctx, want)
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			// Another process created it between our look and our create.
			return applyStream(ctx, js, want)
		}
		if err != nil {
			return fmt.Errorf("create stream %s: %w", want.Name, storageHint(want, err))
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up stream %s: %w", want.Name, err)
	}
	have := s.CachedInfo().Config
	switch {
	case have.Retention != want.Retention:
		return fmt.Errorf("stream %s has %s retention, Herald needs %s: %w", want.Name, have.Retention, want.Retention, ErrStreamConflict)
	case have.Storage != want.Storage:
		return fmt.Errorf("stream %s has %s storage, Herald needs %s: %w", want.Name, have.Storage, want.Storage, ErrStreamConflict)
	case !slices.Equal(have.Subjects, want.Subjects):
		return fmt.Errorf("stream %s listens on %v, Herald needs %v: %w", want.Name, have.Subjects, want.Subjects, ErrStreamConflict)
	}
	if sameStream(have, want) {
		// Nothing to change: no update, which on a cluster every process of a deployment
		// would otherwise send at once at start, where concurrent updates of one stream can
		// go unanswered.
		return nil
	}
	if _, err := js.UpdateStream(ctx, want); err != nil {
		return fmt.Errorf("update stream %s: %w", want.Name, storageHint(want, err))
	}
	return nil
}

// sameStream reports whether have already is what want asks for, in the fields Herald's
// definitions set; the server fills the others with its defaults.
func sameStream(have, want jetstream.StreamConfig) bool {
	return have.Description == want.Description && slices.Equal(have.Subjects, want.Subjects) &&
		have.Retention == want.Retention && have.Storage == want.Storage && have.Discard == want.Discard &&
		have.MaxAge == want.MaxAge && have.MaxBytes == want.MaxBytes && have.MaxMsgs == want.MaxMsgs &&
		have.MaxMsgSize == want.MaxMsgSize && have.Duplicates == want.Duplicates &&
		max(have.Replicas, 1) == max(want.Replicas, 1)
}

// The JetStream API's error codes for a stream whose max_bytes the server cannot reserve.
const (
	errCodeInsufficientResources    jetstream.ErrorCode = 10023
	errCodeStorageResourcesExceeded jetstream.ErrorCode = 10047
)

// storageHint explains a refusal to reserve a stream's max_bytes: the server reserves every
// stream's limit up front, and the sum must fit its JetStream storage.
func storageHint(cfg jetstream.StreamConfig, err error) error {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) || (apiErr.ErrorCode != errCodeInsufficientResources && apiErr.ErrorCode != errCodeStorageResourcesExceeded) {
		return err
	}
	return fmt.Errorf("%w: the server cannot reserve max_bytes %d for it: lower NOTIFICATIONS_%s_MAX_BYTES, or give the server more JetStream storage (NOTIFICATIONS_EMBEDDED_MAX_STORAGE for the embedded server, max_file_store for others)",
		err, cfg.MaxBytes, cfg.Name)
}
