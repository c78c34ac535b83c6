package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestThreeNodeClusterSurvivesANode: the fleet pointed at a 3-node JetStream cluster with
// replicated streams keeps delivering when the node leading DELIVERIES goes away; producers
// that retry a failed publish lose nothing, and every event reaches the receiver under one
// webhook-id.
func TestThreeNodeClusterSurvivesANode(t *testing.T) {
	t.Parallel()
	cluster := testutil.StartCluster(t, 3)
	dbURL := testutil.NewDatabase(t)
	r := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, cluster.URL(), dbURL, r.Destination("ops"))
	e["NOTIFICATIONS_STREAM_REPLICAS"] = "3"
	startFleet(t, e, wholeFleet)

	nc, err := nats.Connect(cluster.URL(), nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s, err := js.Stream(ctx, "DELIVERIES")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(ctx); err != nil || info.Config.Replicas != 3 {
		t.Fatalf("DELIVERIES has %v replicas (%v), want 3", info.Config.Replicas, err)
	}

	events := mixedEvents(t, 300, "acme", "globex")
	publishAll(t, pub, events[:150])
	r.WaitForUnique(t, 50, time.Minute)

	// Take away the node that leads DELIVERIES.
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range cluster.Nodes {
		if n.Server.Name() == info.Cluster.Leader {
			n.Shutdown()
			t.Logf("stopped %s, the DELIVERIES leader, with %d of %d delivered", info.Cluster.Leader, r.Unique(), len(events))
		}
	}
	// A producer retries what failed during the election; ids make the retries harmless.
	rest := events[150:]
	testutil.WaitFor(t, time.Minute, "the rest published", func() bool {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := pub.PublishBatch(pctx, rest)
		return err == nil
	})

	r.WaitForUnique(t, len(events), 2*time.Minute)
	// Delivery is at-least-once: a failover may repeat a send, always under its webhook-id.
	repeats := 0
	for _, reqs := range r.ByID() {
		repeats += len(reqs) - 1
	}
	t.Logf("%d deliveries, %d repeated requests across the failover", r.Unique(), repeats)
	db := ledger(t, dbURL)
	testutil.WaitFor(t, time.Minute, "ledger complete", func() bool {
		return statusCounts(t, db)["delivered"] == len(events)
	})
}
