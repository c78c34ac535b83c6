package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Attempts remembers how many attempts each delivery has made, for the deliveries that have
// made one and are waiting for their retry. JetStream's own count (NumDelivered) also counts
// the times a delivery was handed back without being sent: held by an open circuit, by a
// provider's rate limit, by a worker stopping or dying, by an outage of RESULTS or DEAD. Those
// must not spend a delivery's attempts, or a healthy delivery could end in DEAD, so the
// worker counts attempts itself: a delivery handed out for the first time is on attempt 1;
// one handed out again is on the recorded count plus one.
//
// Errors err on the side of another attempt: a count that could not be written makes the
// next attempt repeat the number of the last one, never skip ahead.
type Attempts interface {
	// Made returns the attempts recorded for the delivery, 0 if none.
	Made(ctx context.Context, deliveryID string) (int, error)
	// Record stores that the delivery has made n attempts.
	Record(ctx context.Context, deliveryID string, n int) error
	// Forget drops the delivery's count once it is settled for good, so that a redrive
	// starts with a fresh budget.
	Forget(ctx context.Context, deliveryID string) error
}

// AttemptsKV is the part of jetstream.KeyValue that KVAttempts needs.
type AttemptsKV interface {
	Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error)
	Put(ctx context.Context, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error
}

// KVAttempts keeps the counts in a JetStream key-value bucket made by AttemptsBucketConfig,
// shared by every worker of every channel: a delivery handed to another worker after a
// retry finds its count there.
type KVAttempts struct{ kv AttemptsKV }

// NewKVAttempts wraps the bucket.
func NewKVAttempts(kv AttemptsKV) *KVAttempts { return &KVAttempts{kv: kv} }

// AttemptsBucketConfig is the bucket of attempt counts. A count outlives any retry schedule
// by far; one that expires only gives its delivery more attempts.
func AttemptsBucketConfig(prefix string, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      prefix + "_attempts",
		Description: "Attempts made by Herald deliveries waiting for a retry, by delivery id.",
		TTL:         7 * 24 * time.Hour,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

// attemptsKey maps a delivery id, which may hold any character an event id may, onto a
// valid bucket key.
func attemptsKey(deliveryID string) string {
	sum := sha256.Sum256([]byte(deliveryID))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Made implements Attempts.
func (a *KVAttempts) Made(ctx context.Context, deliveryID string) (int, error) {
	e, err := a.kv.Get(ctx, attemptsKey(deliveryID))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read attempt count: %w", err)
	}
	n, err := strconv.Atoi(string(e.Value()))
	if err != nil {
		return 0, nil // not ours to fail on: count from zero
	}
	return n, nil
}

// Record implements Attempts.
func (a *KVAttempts) Record(ctx context.Context, deliveryID string, n int) error {
	if _, err := a.kv.Put(ctx, attemptsKey(deliveryID), strconv.AppendInt(nil, int64(n), 10)); err != nil {
		return fmt.Errorf("record attempt count: %w", err)
	}
	return nil
}

// Forget implements Attempts.
func (a *KVAttempts) Forget(ctx context.Context, deliveryID string) error {
	if err := a.kv.Delete(ctx, attemptsKey(deliveryID)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("forget attempt count: %w", err)
	}
	return nil
}
