package delivery

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
)

// TestJanitorDeadLettersWhatReachedMaxDeliver: a delivery whose every delivery went
// unsettled (its workers died mid-send) is dead-lettered with its result and removed from
// DELIVERIES once JetStream announces it reached MaxDeliver.
func TestJanitorDeadLettersWhatReachedMaxDeliver(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	topo := broker.Topology{}
	if err := topo.Apply(ctx, js); err != nil {
		t.Fatal(err)
	}
	base, err := topo.Consumer(broker.StreamDeliveries, "channel", "webhook")
	if err != nil {
		t.Fatal(err)
	}
	base.MaxDeliver, base.AckWait = 2, 200*time.Millisecond
	cons, err := js.CreateOrUpdateConsumer(ctx, broker.StreamDeliveries, base)
	if err != nil {
		t.Fatal(err)
	}
	deliveries, err := js.Stream(ctx, broker.StreamDeliveries)
	if err != nil {
		t.Fatal(err)
	}
	j := NewJanitor(nc, deliveries, js, "herald", obs.Discard())
	if err := j.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer j.Stop()

	m := nats.NewMsg("herald.deliver.webhook.acme")
	m.Data = []byte(`{"specversion":"1.0","id":"e1","source":"t","type":"x.y","tenantid":"acme"}`)
	m.Header.Set(jetstream.MsgIDHeader, "e1:ops")
	m.Header.Set(broker.HeaderDeliveryID, "e1:ops")
	m.Header.Set(broker.HeaderDestination, "ops")
	m.Header.Set(broker.HeaderEventID, "e1")
	m.Header.Set(broker.HeaderTenant, "acme")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	// Two deliveries that are never settled, as from workers killed mid-send.
	for got := 0; got < 2; {
		batch, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for range batch.Messages() {
			got++
		}
	}

	// A live worker keeps pulling: the server notices MaxDeliver when it would deliver again.
	pulling, stopPulling := context.WithCancel(ctx)
	stopped := make(chan struct{})
	defer func() { stopPulling(); <-stopped }()
	go func() {
		defer close(stopped)
		for pulling.Err() == nil {
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(200*time.Millisecond))
			if err != nil {
				continue
			}
			for range batch.Messages() {
				t.Error("a message was delivered past MaxDeliver")
			}
		}
	}()

	dead, err := js.Stream(ctx, broker.StreamDead)
	if err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 10*time.Second, "the dead letter", func() bool {
		return testutil.StreamMsgs(t, js, broker.StreamDead) == 1
	})
	raw, err := dead.GetLastMsgForSubject(ctx, "herald.dead.webhook.acme")
	if err != nil {
		t.Fatal(err)
	}
	if raw.Header.Get(broker.HeaderDeadStatus) != "dead" || raw.Header.Get(broker.HeaderDeliveryID) != "e1:ops" || string(raw.Data) != string(m.Data) {
		t.Errorf("dead letter = %v %q", raw.Header, raw.Data)
	}
	testutil.WaitFor(t, 10*time.Second, "the delivery to leave DELIVERIES", func() bool {
		return testutil.StreamMsgs(t, js, broker.StreamDeliveries) == 0
	})
	results, err := js.Stream(ctx, broker.StreamResults)
	if err != nil {
		t.Fatal(err)
	}
	res, err := results.GetLastMsgForSubject(ctx, "herald.results.webhook")
	if err != nil {
		t.Fatalf("no result for the ledger: %v", err)
	}
	if want := `"status":"dead"`; !strings.Contains(string(res.Data), want) {
		t.Errorf("result %s lacks %s", res.Data, want)
	}
}
