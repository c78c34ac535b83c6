package dispatch

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestRedispatch replays an event that was dispatched already: the idempotency record does
// not stop it, its delivery carries the replay id in its delivery id and Nats-Msg-Id, the
// same replay published twice stores one delivery, and another replay stores another.
func TestRedispatch(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topo := broker.Topology{}
	if err := topo.Apply(ctx, js); err != nil {
		t.Fatal(err)
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, IdempotencyBucketConfig("herald", time.Hour, 1))
	if err != nil {
		t.Fatal(err)
	}
	ccfg, err := topo.Consumer(broker.StreamEvents, broker.ConsumerDispatcher, "")
	if err != nil {
		t.Fatal(err)
	}
	cons, err := js.CreateOrUpdateConsumer(ctx, broker.StreamEvents, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	d := New(Config{}, Deps{
		Consumer: cons, Publisher: js, Idempotency: NewIdempotency(kv),
		Router:  NewRouter([]channel.Destination{{ID: "hook", Channel: "webhook"}}, nil),
		Metrics: NewMetrics(prometheus.NewRegistry()), Logger: slog.New(slog.DiscardHandler),
	})
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)

	ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "declined", Amount: 1})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, ev.Subject("herald"), body, jetstream.WithMsgID(ev.ID)); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the first delivery", func() bool {
		return testutil.StreamMsgs(t, js, broker.StreamDeliveries) == 1
	})

	// Read the event back from EVENTS, as a replay does.
	oc, err := js.OrderedConsumer(ctx, broker.StreamEvents, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := oc.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Validate(msg)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	dests := d.Route(got)
	if len(dests) != 1 || dests[0].ID != "hook" {
		t.Fatalf("Route = %v, want [hook]", dests)
	}
	for _, id := range []string{"R1", "R1", "R2"} {
		if err := d.Redispatch(ctx, msg.Data(), got, dests, id); err != nil {
			t.Fatalf("Redispatch(%s): %v", id, err)
		}
	}
	if err := d.Redispatch(ctx, msg.Data(), got, dests, "bad.id"); err == nil {
		t.Error("Redispatch with a '.' in the replay id succeeded")
	}

	s, err := js.Stream(ctx, broker.StreamDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("delivery %d: %v", seq, err)
		}
		ids = append(ids, m.Header.Get(broker.HeaderDeliveryID))
		if seq > 1 && m.Header.Get(jetstream.MsgIDHeader) != ids[seq-1] {
			t.Errorf("replayed delivery's Nats-Msg-Id %q, want its delivery id", m.Header.Get(jetstream.MsgIDHeader))
		}
		if string(m.Data) != string(body) {
			t.Errorf("delivery %d's body is not the event as published", seq)
		}
	}
	want := []string{ev.ID + ":hook", ev.ID + ":hook:R1", ev.ID + ":hook:R2"}
	if !slices.Equal(ids, want) {
		t.Errorf("delivery ids %v, want %v", ids, want)
	}
	if n := testutil.StreamMsgs(t, js, broker.StreamDeliveries); n != 3 {
		t.Errorf("DELIVERIES holds %d, want 3", n)
	}
}
