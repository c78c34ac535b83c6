package broker

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Publisher is the part of jetstream.JetStream that Herald's components publish with: async
// publishes whose acknowledgements they wait for together (with jetstream.WithStallWait, so
// that a full pipeline slows publishers down instead of failing them), and sync ones where
// one message matters alone.
type Publisher interface {
	PublishMsgAsync(msg *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error)
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// WaitAcks waits until JetStream has stored every published message, and returns the first
// error, a timeout after timeout (every publish gets its own bound: during a leader election
// a publish can hang for seconds), or ctx's error.
func WaitAcks(ctx context.Context, timeout time.Duration, futures ...jetstream.PubAckFuture) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("publish to %s: %w", f.Msg().Subject, err)
		case <-t.C:
			return fmt.Errorf("publish to %s: no acknowledgement from JetStream within %s", f.Msg().Subject, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
