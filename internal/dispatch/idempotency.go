package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KV is the part of jetstream.KeyValue the idempotency record needs.
type KV interface {
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Put(ctx context.Context, key string, value []byte) (uint64, error)
}

// Idempotency remembers the event ids the dispatcher has fanned out, for the bucket's TTL
// (the idempotency window), in a JetStream key-value bucket. It outlives every process and
// the streams' duplicate windows, so a producer that retries much later does not notify
// twice.
type Idempotency struct{ kv KV }

// NewIdempotency wraps a key-value bucket made by IdempotencyBucket.
func NewIdempotency(kv KV) *Idempotency { return &Idempotency{kv: kv} }

// IdempotencyBucketConfig is the bucket that holds the record: one key per event id, kept
// for window. The bucket's name carries the subject prefix, so that fleets with different
// prefixes on one NATS server do not share it.
func IdempotencyBucketConfig(prefix string, window time.Duration, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      prefix + "_dispatched",
		Description: "Event ids the Herald dispatcher has fanned out, kept for the idempotency window.",
		TTL:         window,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

var validKey = regexp.MustCompile(`^[-_=A-Za-z0-9]{1,200}$`)

// key maps an event id onto a valid bucket key: the id itself when it is one (ULIDs are),
// otherwise a hash of it.
func key(eventID string) string {
	if validKey.MatchString(eventID) {
		return eventID
	}
	sum := sha256.Sum256([]byte(eventID))
	return "h_" + hex.EncodeToString(sum[:])
}

// Seen reports whether the event id was dispatched within the window.
func (i *Idempotency) Seen(ctx context.Context, eventID string) (bool, error) {
	_, err := i.kv.Get(ctx, key(eventID))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return false, nil
	default:
		return false, fmt.Errorf("look up event %s in the idempotency record: %w", eventID, err)
	}
}

// Mark records the event id as dispatched.
func (i *Idempotency) Mark(ctx context.Context, eventID string, at time.Time) error {
	if _, err := i.kv.Put(ctx, key(eventID), []byte(at.UTC().Format(time.RFC3339Nano))); err != nil {
		return fmt.Errorf("record event %s as dispatched: %w", eventID, err)
	}
	return nil
}
