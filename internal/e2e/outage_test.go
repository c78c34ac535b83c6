package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
)

// TestPostgresOutage: PostgreSQL stopped for 10 seconds mid-run. Notifications keep flowing
// while it is down, none is lost, and the ledger is complete once it is back.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	pg := testutil.StartPostgres(t)
	dbURL := pg.URL("postgres")
	n := testutil.StartNATS(t)
	r := webhooktest.NewReceiver(t, "")
	startFleet(t, baseEnv(t, n.URL(), dbURL, r.Destination("ops")), wholeFleet)
	db := ledger(t, dbURL)

	nc, _ := jsFor(t, n)
	pub := publisher(t, nc)
	events := mixedEvents(t, 300, "acme", "globex", "initech")
	publishAll(t, pub, events[:100])
	r.WaitForUnique(t, 100, time.Minute)

	pg.Stop(t)
	outage := time.Now()
	publishAll(t, pub, events[100:200])
	// Delivery does not wait for the ledger.
	r.WaitForUnique(t, 200, time.Minute)
	// The outage lasts 10 seconds: the duration is what is under test here.
	<-time.After(10*time.Second - time.Since(outage))
	publishAll(t, pub, events[200:])
	pg.Start(t)

	r.WaitForUnique(t, len(events), time.Minute)
	testutil.WaitFor(t, time.Minute, "the ledger to catch up", func() bool {
		return statusCounts(t, db)["delivered"] == len(events)
	})
	var rows int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM notification_deliveries`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != len(events) {
		t.Errorf("ledger has %d rows, want %d", rows, len(events))
	}
	if c := ledgerStatuses(t, db); len(c) != 1 {
		t.Errorf("ledger statuses %v, want all %d delivered", c, len(events))
	}
}
