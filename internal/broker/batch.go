package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// BatcherConfig configures a Batcher.
type BatcherConfig struct {
	// MaxItems is the most values in one message. Defaults to 64: the recorder writes up to
	// 500 messages in one transaction, and 64 × 500 results still commit well inside its
	// write timeout.
	MaxItems int
	// MaxBytes is the largest message body. Defaults to 256 KiB, well below NATS's default
	// max_payload of 1 MiB.
	MaxBytes int
	// InFlight is how many messages may await their acknowledgement at once; values that
	// arrive meanwhile gather into the next message. Defaults to 2.
	InFlight int
	// Timeout bounds the wait for each message's acknowledgement. Defaults to 5s.
	Timeout time.Duration
}

func (c BatcherConfig) withDefaults() BatcherConfig {
	if c.MaxItems <= 0 {
		c.MaxItems = 64
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 256 << 10
	}
	if c.InFlight <= 0 {
		c.InFlight = 2
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	return c
}

// ErrBatcherStopped is returned by Batcher.Add after Stop.
var ErrBatcherStopped = errors.New("batcher stopped")

// Batcher publishes JSON values bound for one subject in shared messages, each a JSON array
// of the values of many callers: group commit for streams whose consumer reads arrays, such
// as RESULTS. A caller's Add returns once the message holding its values is stored, so it
// may then ack what it consumed. Values that arrive while InFlight messages await their
// acknowledgement gather into the next one; a lone value goes out at once, so batching adds
// no delay when the load is light and saves JetStream a message per caller when it is heavy.
//
// Messages carry no Nats-Msg-Id: their consumer must be idempotent, as the recorder is.
// A Batcher is safe for concurrent use.
type Batcher struct {
	pub     Publisher
	subject string
	cfg     BatcherConfig

	in       chan *batchItem
	inFlight chan struct{}
	wg       sync.WaitGroup // the loop and the acknowledgement waiters
	mu       sync.RWMutex   // guards stopped against Add racing Stop
	stopped  bool
}

type batchItem struct {
	values [][]byte
	size   int
	done   chan error
}

// NewBatcher returns a started Batcher publishing on subject; Stop ends it.
func NewBatcher(pub Publisher, subject string, cfg BatcherConfig) *Batcher {
	cfg = cfg.withDefaults()
	b := &Batcher{
		pub: pub, subject: subject, cfg: cfg,
		in:       make(chan *batchItem, cfg.MaxItems),
		inFlight: make(chan struct{}, cfg.InFlight),
	}
	b.wg.Add(1)
	go b.loop()
	return b
}

// Add publishes values, each one encoded JSON value, as part of a shared array message, and
// waits until JetStream has stored it, ctx ends, or the timeout passes. The values of one
// call always travel in one message.
func (b *Batcher) Add(ctx context.Context, values ...[]byte) error {
	if len(values) == 0 {
		return nil
	}
	it := &batchItem{values: values, done: make(chan error, 1)}
	for _, v := range values {
		it.size += len(v) + 1
	}
	b.mu.RLock()
	if b.stopped {
		b.mu.RUnlock()
		return ErrBatcherStopped
	}
	select {
	case b.in <- it:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-it.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop publishes what was added, waits for its acknowledgements and ends the Batcher. Adds
// after Stop fail with ErrBatcherStopped. It is safe to call more than once.
func (b *Batcher) Stop() {
	b.mu.Lock()
	if !b.stopped {
		b.stopped = true
		close(b.in)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Batcher) loop() {
	defer b.wg.Done()
	var pending *batchItem // taken from in, but too big for the message being built
	for {
		first := pending
		pending = nil
		if first == nil {
			var ok bool
			if first, ok = <-b.in; !ok {
				return
			}
		}
		// Wait for a free slot first: values arriving meanwhile join this message.
		b.inFlight <- struct{}{}
		items := []*batchItem{first}
		n, size := len(first.values), first.size
	gather:
		for n < b.cfg.MaxItems {
			select {
			case it, ok := <-b.in:
				if !ok {
					break gather
				}
				if n+len(it.values) > b.cfg.MaxItems || size+it.size > b.cfg.MaxBytes {
					pending = it
					break gather
				}
				items = append(items, it)
				n, size = n+len(it.values), size+it.size
			default:
				break gather
			}
		}
		b.publish(items, size)
	}
}

// publish sends one message holding the items' values and hands its outcome to each item
// from a goroutine, so that the loop gathers the next message meanwhile.
func (b *Batcher) publish(items []*batchItem, size int) {
	body := make([]byte, 0, size+1)
	body = append(body, '[')
	for _, it := range items {
		for _, v := range it.values {
			if len(body) > 1 {
				body = append(body, ',')
			}
			body = append(body, v...)
		}
	}
	body = append(body, ']')
	f, err := b.pub.PublishMsgAsync(&nats.Msg{Subject: b.subject, Data: body}, jetstream.WithStallWait(b.cfg.Timeout))
	if err != nil {
		err = fmt.Errorf("publish to %s: %w", b.subject, err)
	}
	b.wg.Add(1)
	go func() {
		defer func() { <-b.inFlight; b.wg.Done() }()
		if err == nil {
			err = WaitAcks(context.Background(), b.cfg.Timeout, f)
		}
		for _, it := range items {
			it.done <- err
		}
	}()
}
