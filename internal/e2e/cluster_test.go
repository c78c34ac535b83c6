package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/natsproc"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestThreeNodeClusterSurvivesALeaderCrash: the fleet pointed at a 3-node JetStream cluster
// of nats-server processes, with replicated streams, keeps delivering when the node leading
// DELIVERIES is killed with SIGKILL (no leadership hand-over, nothing flushed); producers
// that retry a failed publish lose nothing, every event reaches the receiver under its one
// webhook-id, nothing is dead-lettered, and the killed node rejoins and catches up.
func TestThreeNodeClusterSurvivesALeaderCrash(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, err := natsproc.StartCluster(ctx, natsproc.Config{Binary: natsServer(t), Dir: t.TempDir()}, 3)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(cluster.Kill)
	dbURL := testutil.NewDatabase(t)
	r := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, cluster.URL(), dbURL, r.Destination("ops"))
	e["NOTIFICATIONS_STREAM_REPLICAS"] = "3"
	startFleet(t, e, wholeFleet)

	nc, err := nats.Connect(cluster.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, "DELIVERIES")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Config.Replicas != 3 {
		t.Fatalf("DELIVERIES has %d replicas, want 3", info.Config.Replicas)
	}

	events := mixedEvents(t, 300, "acme", "globex")
	publishAll(t, pub, events[:150])
	r.WaitForUnique(t, 50, time.Minute)

	// Crash the node that leads DELIVERIES while deliveries are in flight.
	leader, err := cluster.StreamLeader(ctx, js, "DELIVERIES")
	if err != nil {
		t.Fatal(err)
	}
	pid := leader.Pid()
	leader.Kill()
	if leader.Running() || pid == 0 {
		t.Fatalf("%s (pid %d) still runs after SIGKILL", leader.Name(), pid)
	}
	t.Logf("killed %s (pid %d), the DELIVERIES leader, with %d of %d delivered", leader.Name(), pid, r.Unique(), len(events))
	next, err := cluster.WaitStreamLeader(ctx, js, "DELIVERIES", leader.Name(), time.Minute)
	if err != nil {
		t.Fatalf("no new DELIVERIES leader after the crash: %v", err)
	}
	t.Logf("%s leads DELIVERIES now", next.Name())

	// A producer retries what failed during the election; ids make the retries harmless.
	rest := events[150:]
	testutil.WaitFor(t, time.Minute, "the rest published", func() bool {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := pub.PublishBatch(pctx, rest)
		return err == nil
	})
	r.WaitForUnique(t, len(events), 2*time.Minute)

	// The crashed node comes back on its store and catches up with the others.
	if err := leader.Start(ctx); err != nil {
		t.Fatalf("restart %s: %v", leader.Name(), err)
	}
	if err := cluster.WaitStreamCurrent(ctx, js, "DELIVERIES", time.Minute); err != nil {
		t.Fatalf("DELIVERIES after %s came back: %v", leader.Name(), err)
	}

	// Delivery is at-least-once: a crash may repeat a send, always under its webhook-id.
	want := map[string]bool{}
	for _, ev := range events {
		want[ev.ID+":ops"] = true
	}
	repeated, most := 0, 1
	for id, reqs := range r.ByID() {
		if !want[id] {
			t.Errorf("received webhook-id %s, which no published event has", id)
			continue
		}
		var got sdk.Event
		if err := json.Unmarshal(reqs[0].Body, &got); err != nil || got.ID+":ops" != id {
			t.Errorf("the body under %s is not its event (%v)", id, err)
		}
		if len(reqs) > 1 {
			repeated++
			most = max(most, len(reqs))
		}
	}
	if bad := r.BadSignatures(); bad != 0 {
		t.Errorf("%d requests failed signature verification", bad)
	}
	t.Logf("%d deliveries, %d of them sent more than once across the crash (at most %d times)", r.Unique(), repeated, most)
	db := ledger(t, dbURL)
	testutil.WaitFor(t, time.Minute, "ledger complete", func() bool {
		return statusCounts(t, db)["delivered"] == len(events)
	})
	if c := ledgerStatuses(t, db); len(c) != 1 {
		t.Errorf("ledger statuses %v, want all %d delivered", c, len(events))
	}
	if dead := deadMessages(t, js); len(dead) != 0 {
		t.Errorf("%d dead letters after the crash, want none; the first says %q", len(dead), dead[0].Headers().Get("Herald-Dead-Reason"))
	}
}

// TestWorkersStartedTogetherOnACluster: on a 3-node cluster, channel workers that start at
// the same moment (as a deployment starts them) all come up. Concurrent creations of one
// replicated key-value bucket used to leave all but one waiting for an answer that never came,
// and the workers exited at start.
func TestWorkersStartedTogetherOnACluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, err := natsproc.StartCluster(ctx, natsproc.Config{Binary: natsServer(t), Dir: t.TempDir()}, 3)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(cluster.Kill)
	if err := cluster.WaitReady(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	r := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, cluster.URL(), testutil.NewDatabase(t), r.Destination("ops"))
	e["NOTIFICATIONS_STREAM_REPLICAS"] = "3"
	cfg, err := config.Load(e.get, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	const workers = 3
	errs := make(chan error, workers)
	for i := range workers {
		go func() {
			p, err := app.Start(ctx, cfg, app.Role{Name: fmt.Sprintf("worker-%d", i), Channels: []string{"webhook"}}, obs.Discard())
			if err == nil {
				t.Cleanup(p.Stop)
			}
			errs <- err
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Errorf("a worker did not start: %v", err)
		}
	}
}
