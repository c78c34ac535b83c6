package delivery_test

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/testutil"
)

// depths reads the two depth gauges of a channel.
func depths(t *testing.T, e *env, ch string) (queue, retry float64) {
	t.Helper()
	labels := map[string]string{"channel": ch}
	return counter(t, e.reg, "notification_queue_depth", labels), counter(t, e.reg, "notification_retry_queue_depth", labels)
}

// TestDepthSampler: deliveries nobody took count in notification_queue_depth; deliveries
// handed out and not acked (in flight, or NAKed for a later retry) count in
// notification_retry_queue_depth. Consumers that are not a channel's are ignored.
func TestDepthSampler(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 4, 5*time.Second)
	ctx := t.Context()
	// Another channel's consumer, idle, and a consumer that is no channel's.
	for _, c := range []jetstream.ConsumerConfig{
		{Durable: "deliver-sms", FilterSubject: "herald.deliver.sms.>", AckPolicy: jetstream.AckExplicitPolicy},
		{Durable: "audit", FilterSubject: "herald.deliver.email.>", AckPolicy: jetstream.AckExplicitPolicy},
	} {
		if _, err := e.js.CreateOrUpdateConsumer(ctx, broker.StreamDeliveries, c); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		e.publish(t, destID)
	}
	// Take two: one stays in flight, one is NAKed for a retry far away.
	batch, err := e.cons.FetchNoWait(2)
	if err != nil {
		t.Fatal(err)
	}
	var taken []jetstream.Msg
	for m := range batch.Messages() {
		taken = append(taken, m)
	}
	if err := batch.Error(); err != nil || len(taken) != 2 {
		t.Fatalf("fetched %d deliveries (%v), want 2", len(taken), err)
	}
	if err := taken[1].NakWithDelay(time.Hour); err != nil {
		t.Fatal(err)
	}
	deliveries, err := e.js.Stream(ctx, broker.StreamDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, waitLong, "the consumer to count 3 waiting and 2 pending acks", func() bool {
		ci, err := e.cons.Info(ctx)
		return err == nil && ci.NumPending == 3 && ci.NumAckPending == 2
	})

	s := delivery.NewDepthSampler(deliveries, e.metrics, 0)
	s.Sample(ctx)
	if q, r := depths(t, e, chName); q != 3 || r != 2 {
		t.Errorf("%s depths = queue %v, retry %v; want 3 and 2", chName, q, r)
	}
	if q, r := depths(t, e, "sms"); q != 0 || r != 0 {
		t.Errorf("sms depths = queue %v, retry %v; want 0 and 0", q, r)
	}
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "notification_queue_depth" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if ch := m.GetLabel()[0].GetValue(); ch != chName && ch != "sms" {
				t.Errorf("notification_queue_depth has a series for channel %q, want only channel consumers", ch)
			}
		}
	}

	// Started, the sampler keeps the figures current.
	s = delivery.NewDepthSampler(deliveries, e.metrics, 20*time.Millisecond)
	s.Start(ctx)
	defer s.Stop()
	if err := taken[0].Ack(); err != nil {
		t.Fatal(err)
	}
	e.publish(t, destID)
	testutil.WaitFor(t, waitLong, "the sampled depths to follow", func() bool {
		q, r := depths(t, e, chName)
		return q == 4 && r == 1
	})
}
