package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
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

// Idempotency remembers the events the dispatcher has fanned out, for the bucket's TTL (the
// idempotency window), in a JetStream key-value bucket. It outlives every process and the
// streams' duplicate windows, so a producer that retries much later does not notify twice.
//
// An event is known by its identity as CloudEvents defines it, source and id, within its
// tenant (see eventKey): two tenants, or two sources of one tenant, that happen to use one
// id are two events, and neither silences the other.
type Idempotency struct{ kv KV }

// NewIdempotency wraps a key-value bucket made by IdempotencyBucketConfig.
func NewIdempotency(kv KV) *Idempotency { return &Idempotency{kv: kv} }

// IdempotencyBucketConfig is the bucket that holds the record: one key per event, kept for
// window. The bucket's name carries the subject prefix, so that fleets with different
// prefixes on one NATS server do not share it.
func IdempotencyBucketConfig(prefix string, window time.Duration, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      prefix + "_dispatched",
		Description: "Events (tenant, source and id) the Herald dispatcher has fanned out, kept for the idempotency window.",
		TTL:         window,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

// eventKey is an event's identity, its tenant, source and id, as a string that is a valid
// bucket key and Nats-Msg-Id token: 22 characters of base64url, the first 128 bits of a
// SHA-256 of the three, each length-prefixed so that no two triples run together.
// A cryptographic hash, because tenants choose sources and ids: one that could craft a
// collision with another tenant's event could silence it.
//
// Records made by earlier versions, keyed by the event id alone, are not found under these
// keys: an event dispatched just before an upgrade and published again within the window
// is dispatched once more.
func eventKey(tenant, source, id string) string {
	var scratch [256]byte
	b := scratch[:0]
	b = binary.AppendUvarint(b, uint64(len(tenant)))
	b = append(b, tenant...)
	b = binary.AppendUvarint(b, uint64(len(source)))
	b = append(b, source...)
	b = append(b, id...)
	sum := sha256.Sum256(b)
	var out [22]byte
	base64.RawURLEncoding.Encode(out[:], sum[:16])
	return string(out[:])
}

// Claim records that the EVENTS message at stream sequence seq dispatches the event whose
// eventKey is key, unless another message of the same event did within the window, and
// reports whether this one may fan it out. One round trip, a create-if-absent, serves the
// common case of a new event.
//
// The record is made before the fan-out, so a message whose fan-out failed, or whose
// dispatcher died midway, is redelivered to a record that names it: its own redeliveries may
// fan out again (DELIVERIES' duplicate window drops the copies of what was stored), while
// any other message of the event, a producer's late retry, is a duplicate.
func (i *Idempotency) Claim(ctx context.Context, key string, seq uint64) (bool, error) {
	own := strconv.FormatUint(seq, 10)
	_, err := i.kv.Create(ctx, key, []byte(own))
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, fmt.Errorf("record event %s in the idempotency record: %w", key, err)
	}
	e, err := i.kv.Get(ctx, key)
	if err != nil {
		// Not found means the record expired in between: the next attempt claims it anew.
		return false, fmt.Errorf("look up event %s in the idempotency record: %w", key, err)
	}
	return string(e.Value()) == own, nil
}
