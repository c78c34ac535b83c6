package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KV is the part of jetstream.KeyValue the idempotency record needs.
type KV interface {
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error)
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

// validKey reports whether s is a bucket key as is: 1 to 200 of [-_=A-Za-z0-9]. A loop, not
// a regular expression, because it runs twice per event.
func validKey(s string) bool {
	if len(s) == 0 || len(s) > 200 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
			return false
		}
	}
	return true
}

// key maps an event id onto a valid bucket key: the id itself when it is one (ULIDs are),
// otherwise a hash of it.
func key(eventID string) string {
	if validKey(eventID) {
		return eventID
	}
	sum := sha256.Sum256([]byte(eventID))
	return "h_" + hex.EncodeToString(sum[:])
}

// Claim records that the EVENTS message at stream sequence seq dispatches the event, unless
// another message of the same event id did within the window, and reports whether this one
// may fan it out. One round trip, a create-if-absent, serves the common case of a new event.
//
// The record is made before the fan-out, so a message whose fan-out failed, or whose
// dispatcher died midway, is redelivered to a record that names it: its own redeliveries may
// fan out again (DELIVERIES' duplicate window drops the copies of what was stored), while
// any other message with the id, a producer's late retry, is a duplicate.
func (i *Idempotency) Claim(ctx context.Context, eventID string, seq uint64) (bool, error) {
	k := key(eventID)
	own := strconv.FormatUint(seq, 10)
	_, err := i.kv.Create(ctx, k, []byte(own))
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, fmt.Errorf("record event %s in the idempotency record: %w", eventID, err)
	}
	e, err := i.kv.Get(ctx, k)
	if err != nil {
		// Not found means the record expired in between: the next attempt claims it anew.
		return false, fmt.Errorf("look up event %s in the idempotency record: %w", eventID, err)
	}
	return string(e.Value()) == own, nil
}
