package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/store"
)

// maxDeliveriesAdvisory is where JetStream announces a message that reached a consumer's
// MaxDeliver: $JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<consumer>.
const maxDeliveriesAdvisory = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES."

// Subscriber is the part of *nats.Conn the janitor listens with.
type Subscriber interface {
	QueueSubscribe(subject, queue string, cb nats.MsgHandler) (*nats.Subscription, error)
}

// StreamMessages is the part of jetstream.Stream (DELIVERIES) the janitor reads and deletes
// with.
type StreamMessages interface {
	GetMsg(ctx context.Context, seq uint64, opts ...jetstream.GetMsgOpt) (*jetstream.RawStreamMsg, error)
	DeleteMsg(ctx context.Context, seq uint64) error
}

// Janitor covers the one case the workers cannot: a delivery whose worker crashed on every
// attempt from the last one to MaxDeliver. JetStream stops delivering it, and in a work-queue
// stream it would stay forever. The janitor hears the MAX_DELIVERIES advisory, dead-letters
// the message with its result, and removes it from DELIVERIES. Processes running a janitor
// share the advisory through a queue group.
type Janitor struct {
	sub       Subscriber
	stream    StreamMessages
	publisher broker.Publisher
	subj      broker.Subjects
	log       *slog.Logger
	timeout   time.Duration

	mu     sync.Mutex
	nsub   *nats.Subscription
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// NewJanitor builds a janitor over the DELIVERIES stream.
func NewJanitor(sub Subscriber, stream StreamMessages, pub broker.Publisher, prefix string, log *slog.Logger) *Janitor {
	return &Janitor{
		sub: sub, stream: stream, publisher: pub,
		subj:    broker.Subjects{Prefix: prefix},
		log:     log.With("component", "janitor"),
		timeout: 10 * time.Second,
	}
}

// Start subscribes to the advisories of the channel consumers.
func (j *Janitor) Start(ctx context.Context) error {
	ctx, j.cancel = context.WithCancel(context.WithoutCancel(ctx))
	sub, err := j.sub.QueueSubscribe(maxDeliveriesAdvisory+broker.StreamDeliveries+".*", "herald-janitor", func(m *nats.Msg) {
		j.wg.Add(1)
		defer j.wg.Done()
		j.handle(ctx, m.Data)
	})
	if err != nil {
		return fmt.Errorf("subscribe to max-deliveries advisories: %w", err)
	}
	j.mu.Lock()
	j.nsub = sub
	j.mu.Unlock()
	return nil
}

// Stop unsubscribes and waits for the advisory in hand.
func (j *Janitor) Stop() {
	j.mu.Lock()
	if j.nsub != nil {
		_ = j.nsub.Drain()
	}
	j.mu.Unlock()
	j.wg.Wait()
	if j.cancel != nil {
		j.cancel()
	}
}

type advisory struct {
	Stream     string `json:"stream"`
	Consumer   string `json:"consumer"`
	StreamSeq  uint64 `json:"stream_seq"`
	Deliveries uint64 `json:"deliveries"`
}

func (j *Janitor) handle(ctx context.Context, data []byte) {
	var a advisory
	if err := json.Unmarshal(data, &a); err != nil {
		j.log.Error("unreadable max-deliveries advisory", "err", err)
		return
	}
	channelName, ok := strings.CutPrefix(a.Consumer, "deliver-")
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	raw, err := j.stream.GetMsg(ctx, a.StreamSeq)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return // settled after all
	}
	if err != nil {
		j.log.Error("read delivery that reached max deliveries", "seq", a.StreamSeq, "err", err)
		return
	}
	h := raw.Header
	res := store.Result{
		DeliveryID:  h.Get(broker.HeaderDeliveryID),
		EventID:     h.Get(broker.HeaderEventID),
		TenantID:    h.Get(broker.HeaderTenant),
		EventType:   h.Get(broker.HeaderEventType),
		Channel:     channelName,
		Destination: h.Get(broker.HeaderDestination),
		Attempt:     int(a.Deliveries),
		Status:      store.StatusDead,
		Error:       fmt.Sprintf("delivered %d times without being settled: its workers stopped mid-send", a.Deliveries),
		At:          time.Now().UTC(),
	}
	dead := broker.DeadLetter(j.subj.Dead(channelName, tenantToken(res.TenantID)),
		broker.OriginalOfRaw(a.Stream, raw), string(store.StatusDead), res.Error, res.Attempt)
	if _, err := j.publisher.PublishMsg(ctx, dead); err != nil {
		j.log.Error("dead-letter delivery that reached max deliveries", "delivery_id", res.DeliveryID, "err", err)
		return
	}
	if res.DeliveryID != "" {
		if m, err := resultMsg(j.subj, res); err == nil {
			if _, err := j.publisher.PublishMsg(ctx, m); err != nil {
				j.log.Warn("publish result of delivery that reached max deliveries", "delivery_id", res.DeliveryID, "err", err)
			}
		}
	}
	if err := j.stream.DeleteMsg(ctx, a.StreamSeq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		j.log.Error("remove dead-lettered delivery", "seq", a.StreamSeq, "err", err)
		return
	}
	j.log.Warn("delivery reached max deliveries and was dead-lettered", "delivery_id", res.DeliveryID, "channel", channelName, "deliveries", a.Deliveries)
}
