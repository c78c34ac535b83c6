package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultSubjectPrefix is the first token of every Herald subject unless the fleet is
// configured otherwise (NOTIFICATIONS_SUBJECT_PREFIX).
const DefaultSubjectPrefix = "herald"

// DefaultPublishTimeout is how long a publish waits for the stream's ack by default. A
// publish during a JetStream leader election can block for seconds; this bounds it.
const DefaultPublishTimeout = 5 * time.Second

// PubAck is the stream's receipt for a published event.
type PubAck struct {
	// Stream is the name of the stream that stored the event, such as "EVENTS".
	Stream string `json:"stream"`
	// Sequence is the event's sequence number in that stream.
	Sequence uint64 `json:"seq"`
	// Duplicate is true when the stream already had an event with this id within its
	// duplicate window and dropped this copy; Sequence is then the first copy's.
	Duplicate bool `json:"duplicate"`
}

// PublisherOption configures a [Publisher].
type PublisherOption func(*publisherConfig)

type publisherConfig struct {
	prefix   string
	timeout  time.Duration
	maxBytes int
}

// WithSubjectPrefix sets the first token(s) of the subjects events are published on.
// Defaults to [DefaultSubjectPrefix]; it must match the fleet's NOTIFICATIONS_SUBJECT_PREFIX.
func WithSubjectPrefix(prefix string) PublisherOption {
	return func(c *publisherConfig) { c.prefix = prefix }
}

// WithPublishTimeout sets how long one publish (or one whole batch) waits for the stream's
// acks. Defaults to [DefaultPublishTimeout]. A caller's context deadline, if sooner, wins.
func WithPublishTimeout(d time.Duration) PublisherOption {
	return func(c *publisherConfig) { c.timeout = d }
}

// WithMaxEventBytes sets the largest encoded event the Publisher sends. Defaults to
// [DefaultMaxEventBytes]; the server's max_payload, if smaller, is the limit in effect.
func WithMaxEventBytes(n int) PublisherOption {
	return func(c *publisherConfig) { c.maxBytes = n }
}

// Publisher publishes events to Herald's EVENTS stream over NATS JetStream. It is safe for
// concurrent use. It does not own the connection: close that when done.
//
// Every publish sets the Nats-Msg-Id header to the event id, so publishing the same event
// again is deduplicated (see [PubAck.Duplicate]), and waits for the stream's ack, bounded by
// its own timeout.
type Publisher struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	prefix   string
	timeout  time.Duration
	maxBytes int
}

// NewPublisher returns a Publisher that publishes on nc. It fails if an option is invalid.
func NewPublisher(nc *nats.Conn, opts ...PublisherOption) (*Publisher, error) {
	if nc == nil {
		return nil, errors.New("new publisher: nil NATS connection")
	}
	c := publisherConfig{prefix: DefaultSubjectPrefix, timeout: DefaultPublishTimeout, maxBytes: DefaultMaxEventBytes}
	for _, opt := range opts {
		opt(&c)
	}
	switch {
	case !ValidType(c.prefix): // the same grammar: dot-separated tokens, no wildcards
		return nil, fmt.Errorf("new publisher: subject prefix %q is not dot-separated tokens of letters, digits, '-' and '_'", c.prefix)
	case c.timeout <= 0:
		return nil, fmt.Errorf("new publisher: publish timeout %s is not positive", c.timeout)
	case c.maxBytes <= 0:
		return nil, fmt.Errorf("new publisher: max event bytes %d is not positive", c.maxBytes)
	}
	// The async ack timeout releases the pending slot of a batch event whose ack never
	// comes, after PublishBatch has given up on it.
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(c.timeout))
	if err != nil {
		return nil, fmt.Errorf("new publisher: %w", err)
	}
	return &Publisher{nc: nc, js: js, prefix: c.prefix, timeout: c.timeout, maxBytes: c.maxBytes}, nil
}

// Publish validates e, encodes it and publishes it on e.Subject(prefix), waiting for the
// stream's ack. It returns a *ValidationError for an invalid event (Field "data" for one
// whose encoding is over the size limit), an error wrapping [ErrNoStream] when no stream
// answered, [ErrPublishTimeout] when the ack did not come within the publish timeout, and
// ctx's error when ctx ended first. After a timeout it is safe to publish the same event
// again.
func (p *Publisher) Publish(ctx context.Context, e *Event) (PubAck, error) {
	msg, err := p.message(e)
	if err != nil {
		return PubAck{}, fmt.Errorf("publish: %w", err)
	}
	return p.publishMsg(ctx, e.ID, msg)
}

// PublishJSON publishes an already encoded CloudEvent as is, byte for byte, after decoding
// and validating it as Publish does; extension attributes that [Event] has no field for are
// kept. It is for relays and tools that hold events as JSON, such as the publisher-sdk
// command.
func (p *Publisher) PublishJSON(ctx context.Context, body []byte) (PubAck, error) {
	e, err := Decode(body)
	if err != nil {
		return PubAck{}, fmt.Errorf("publish: %w", err)
	}
	if err := p.checkSize(len(body)); err != nil {
		return PubAck{}, fmt.Errorf("publish: %w", err)
	}
	return p.publishMsg(ctx, e.ID, p.newMsg(e, body))
}

// PublishBatch publishes many events at once, pipelining them with JetStream's async
// publish and then waiting for every ack; it is several times faster than calling Publish
// in a loop. The whole batch shares one publish timeout, so split batches of more than a
// few thousand events.
//
// The returned acks are in the order of events; an event that was not published has a zero
// PubAck. If any event failed the error is a *BatchError whose Errs says, per event, why
// (the same errors Publish returns). Retrying the whole batch is safe: the events already
// stored come back as duplicates.
func (p *Publisher) PublishBatch(ctx context.Context, events []*Event) ([]PubAck, error) {
	acks := make([]PubAck, len(events))
	errs := make([]error, len(events))
	futures := make([]jetstream.PubAckFuture, len(events))
	pubCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	deadline, _ := pubCtx.Deadline()
	failed := false
	for i, e := range events {
		msg, err := p.message(e)
		if err != nil {
			errs[i], failed = fmt.Errorf("publish: %w", err), true
			continue
		}
		wait := time.Until(deadline)
		if pubCtx.Err() != nil || wait <= 0 {
			errs[i], failed = p.wrap(ctx, pubCtx, e.ID, msg.Subject, context.DeadlineExceeded), true
			continue
		}
		// A full pending window (4000 acks) stalls the loop until a slot frees, up to the
		// batch's deadline, instead of failing after jetstream's default 200 ms.
		f, err := p.js.PublishMsgAsync(msg, jetstream.WithStallWait(wait))
		if err != nil {
			errs[i], failed = p.wrap(ctx, pubCtx, e.ID, msg.Subject, err), true
			continue
		}
		futures[i] = f
	}
	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case a := <-f.Ok():
			acks[i] = PubAck{Stream: a.Stream, Sequence: a.Sequence, Duplicate: a.Duplicate}
		case err := <-f.Err():
			errs[i], failed = p.wrap(ctx, pubCtx, events[i].ID, f.Msg().Subject, err), true
		case <-pubCtx.Done():
			errs[i], failed = p.wrap(ctx, pubCtx, events[i].ID, f.Msg().Subject, pubCtx.Err()), true
		}
	}
	if failed {
		return acks, &BatchError{Errs: errs}
	}
	return acks, nil
}

// message validates and encodes e into the message that carries it.
func (p *Publisher) message(e *Event) (*nats.Msg, error) {
	if e == nil {
		return nil, &ValidationError{"event", "is nil"}
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.ID, err)
	}
	if err := p.checkSize(len(body)); err != nil {
		return nil, err
	}
	return p.newMsg(e, body), nil
}

func (p *Publisher) newMsg(e *Event, body []byte) *nats.Msg {
	return &nats.Msg{
		Subject: e.Subject(p.prefix),
		Header:  nats.Header{jetstream.MsgIDHeader: []string{e.ID}},
		Data:    body,
	}
}

// checkSize refuses an encoded event over the configured limit or the server's
// max_payload, whichever is smaller.
func (p *Publisher) checkSize(n int) error {
	limit := p.maxBytes
	if mp := p.nc.MaxPayload(); mp > 0 && mp < int64(limit) {
		limit = int(mp)
	}
	if n > limit {
		return &ValidationError{"data", fmt.Sprintf("event encodes to %d bytes, over the limit of %d bytes", n, limit)}
	}
	return nil
}

func (p *Publisher) publishMsg(ctx context.Context, id string, msg *nats.Msg) (PubAck, error) {
	pubCtx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	a, err := p.js.PublishMsg(pubCtx, msg)
	if err != nil {
		return PubAck{}, p.wrap(ctx, pubCtx, id, msg.Subject, err)
	}
	return PubAck{Stream: a.Stream, Sequence: a.Sequence, Duplicate: a.Duplicate}, nil
}

// wrap names the event and subject in a publish error and maps jetstream's errors onto the
// SDK's sentinels. ctx is the caller's context, pubCtx the one bounded by the timeout.
func (p *Publisher) wrap(ctx, pubCtx context.Context, id, subject string, err error) error {
	switch {
	case errors.Is(err, jetstream.ErrNoStreamResponse):
		err = fmt.Errorf("%w (is a stream bound to %s?): %w", ErrNoStream, subject, err)
	case ctx.Err() != nil:
		// The caller's own cancellation or deadline: theirs to interpret.
		err = context.Cause(ctx)
	case pubCtx.Err() != nil, errors.Is(err, jetstream.ErrAsyncPublishTimeout), errors.Is(err, jetstream.ErrTooManyStalledMsgs):
		err = fmt.Errorf("%w (%s): %w", ErrPublishTimeout, p.timeout, err)
	}
	return fmt.Errorf("publish event %s to %s: %w", id, subject, err)
}
