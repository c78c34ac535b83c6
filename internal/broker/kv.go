package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// KeyValues is the part of jetstream.JetStream that EnsureKeyValue needs.
type KeyValues interface {
	KeyValue(ctx context.Context, bucket string) (jetstream.KeyValue, error)
	CreateOrUpdateKeyValue(ctx context.Context, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error)
}

// kvAttempt bounds one create-or-update of a bucket. On a clustered JetStream, processes that
// create the same replicated bucket at the same moment (two workers started together) can
// find that the losers' requests are never answered: each attempt gets its own short bound,
// and a bucket that exists meanwhile is bound to instead.
const kvAttempt = 3 * time.Second

// EnsureKeyValue binds to the bucket cfg describes, creating it (or updating its
// configuration) first, and retries until ctx ends: many processes may ensure one bucket at
// once, as every worker and dispatcher replica does at start. A bucket that already is as
// cfg says is bound to without a change: a process whose NATS role may read a bucket but
// not configure it (a worker's, see package natsauth) binds at once, and a deployment's
// processes, started together, do not all update it.
func EnsureKeyValue(ctx context.Context, js KeyValues, cfg jetstream.KeyValueConfig) (jetstream.KeyValue, error) {
	bctx, cancel := context.WithTimeout(ctx, kvAttempt)
	kv, err := js.KeyValue(bctx, cfg.Bucket)
	if err == nil && sameBucket(bctx, kv, cfg) {
		cancel()
		return kv, nil
	}
	cancel()
	var last error
	for delay := 100 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		actx, cancel := context.WithTimeout(ctx, kvAttempt)
		kv, err := js.CreateOrUpdateKeyValue(actx, cfg)
		cancel()
		if err == nil {
			return kv, nil
		}
		last = err
		// Someone else may have made it meanwhile: bind to it.
		bctx, cancel := context.WithTimeout(ctx, kvAttempt)
		kv, berr := js.KeyValue(bctx, cfg.Bucket)
		cancel()
		if berr == nil {
			return kv, nil
		}
		if !errors.Is(berr, jetstream.ErrBucketNotFound) && !errors.Is(berr, context.DeadlineExceeded) {
			last = berr
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("key-value bucket %s: %w (last: %v)", cfg.Bucket, ctx.Err(), last)
		case <-time.After(delay):
		}
	}
}

// sameBucket reports whether the bucket already has the settings of cfg that Herald's
// buckets set; any doubt answers false, and the bucket is updated as before.
func sameBucket(ctx context.Context, kv jetstream.KeyValue, cfg jetstream.KeyValueConfig) bool {
	st, err := kv.Status(ctx)
	if err != nil {
		return false
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok || bs.StreamInfo() == nil {
		return false
	}
	have := bs.StreamInfo().Config
	orNone := func(n int64) int64 {
		if n == 0 {
			return -1
		}
		return n
	}
	return have.Description == cfg.Description && have.MaxAge == cfg.TTL &&
		have.MaxMsgsPerSubject == max(int64(cfg.History), 1) && have.Storage == cfg.Storage &&
		max(have.Replicas, 1) == max(cfg.Replicas, 1) && have.MaxBytes == orNone(cfg.MaxBytes) &&
		int64(have.MaxMsgSize) == orNone(int64(cfg.MaxValueSize))
}
