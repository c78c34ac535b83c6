package ops_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestRedriveTenThousandWhileLiveTrafficFlows redrives 10,000 dead webhook deliveries while
// live events keep arriving for the same channel: the redrive answers at once, every dead
// letter is delivered under its own delivery id, and live deliveries keep flowing beside it
// (their latency is measured and bounded).
func TestRedriveTenThousandWhileLiveTrafficFlows(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 deliveries")
	}
	t.Parallel()
	const letters = 10_000
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	slack := newFakeSlack(t)
	hook := newReceiver(t)
	p := startFleet(t, fleetEnv(t, n.URL(), dbURL, slack.URL, hook.URL))
	dead := p.Ops().DeadLetters()
	ctx := t.Context()
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := postgres.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ledger.Close() })

	// 10,000 webhook deliveries that died after two attempts, as the workers leave them: a
	// dead letter in DEAD and a dead row in the ledger.
	subj := broker.Subjects{Prefix: "herald"}
	died := time.Now().Add(-10 * time.Minute)
	var results []store.Result
	var futures []jetstream.PubAckFuture
	ids := make([]string, 0, letters)
	for i := range letters {
		ev := paymentFailed(t, fmt.Sprintf("tenant-%d", i%7))
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		id := broker.DeliveryID(ev.ID, "webhook")
		ids = append(ids, id)
		orig := broker.Original{Subject: subj.Deliver("webhook", ev.Tenant()), Data: body, Header: nats.Header{
			jetstream.MsgIDHeader:    {id + ":k"},
			broker.HeaderDeliveryID:  {id},
			broker.HeaderDestination: {"webhook"},
			broker.HeaderEventID:     {ev.ID},
			broker.HeaderEventType:   {ev.Type},
			broker.HeaderTenant:      {ev.Tenant()},
		}}
		f, err := js.PublishMsgAsync(broker.DeadLetter(subj.Dead("webhook", ev.Tenant()), orig, "dead", "gave up after 2 attempts: 503", 2))
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, f)
		r := store.Result{DeliveryID: id, EventID: ev.ID, TenantID: ev.Tenant(), EventType: ev.Type, Channel: "webhook", Destination: "webhook"}
		for a, st := range []store.Status{store.StatusPending, store.StatusRetrying, store.StatusDead} {
			r.Attempt, r.Status, r.At = a, st, died.Add(time.Duration(a)*time.Second)
			results = append(results, r)
		}
	}
	if err := broker.WaitAcks(ctx, time.Minute, futures...); err != nil {
		t.Fatal(err)
	}
	for chunk := range slices.Chunk(results, 3000) {
		if err := ledger.Record(ctx, chunk); err != nil {
			t.Fatal(err)
		}
	}

	// A live event every 20 ms, to the same webhook, for as long as the redrive runs.
	stop := make(chan struct{})
	var (
		mu        sync.Mutex
		published = map[string]time.Time{}
		wg        sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			ev, err := sdk.NewNodeLaunched("live", sdk.NodeLaunched{NodeID: "n", Provider: "aws", Region: "r", GPUType: "H100", GPUCount: 1})
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := json.Marshal(ev)
			mu.Lock()
			published[ev.ID] = time.Now()
			mu.Unlock()
			if _, err := js.Publish(ctx, ev.Subject("herald"), body, jetstream.WithMsgID(ev.ID)); err != nil {
				t.Error(err)
				return
			}
		}
	}()

	start := time.Now()
	got, err := dead.Redrive(ctx, control.DeadSelection{Channel: "webhook"})
	answered := time.Since(start)
	if err != nil || got != letters {
		t.Fatalf("Redrive = %d, %v; want %d", got, err, letters)
	}
	if answered > 5*time.Second {
		t.Errorf("Redrive answered after %s: it must not wait for the letters to move", answered)
	}
	testutil.WaitFor(t, 5*time.Minute, "every redriven delivery received", func() bool {
		for _, id := range ids {
			if hook.count(id) == 0 {
				return false
			}
		}
		return true
	})
	took := time.Since(start)
	close(stop)
	wg.Wait()

	// Live deliveries flowed beside the redrive.
	mu.Lock()
	var lat []time.Duration
	for id, at := range published {
		testutil.WaitFor(t, time.Minute, "live event "+id, func() bool { _, ok := hook.arrived(id); return ok })
		arrived, _ := hook.arrived(id)
		lat = append(lat, arrived.Sub(at))
	}
	mu.Unlock()
	slices.Sort(lat)
	p50, p99, worst := lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	t.Logf("redrive of %d answered in %s, delivered in %s; %d live deliveries meanwhile: p50 %s, p99 %s, max %s",
		letters, answered, took, len(lat), p50, p99, worst)
	if p99 > 5*time.Second {
		t.Errorf("live deliveries' p99 latency during the redrive is %s, want under 5s", p99)
	}
	for _, id := range ids {
		if c := hook.count(id); c != 1 {
			t.Fatalf("webhook-id %s received %d times, want once", id, c)
		}
	}
	testutil.WaitFor(t, time.Minute, "the dead list empty", func() bool {
		items, _, err := dead.List(ctx, control.DeliveryQuery{Channel: "webhook", Page: control.Page{Limit: 1}})
		return err == nil && len(items) == 0
	})
}
