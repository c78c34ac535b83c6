package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestDeadEndpointTripsItsCircuitOnly: an endpoint that keeps failing stops receiving
// requests once its circuit opens, its deliveries still end in DEAD after their attempts,
// and a healthy endpoint on the same channel is not slowed.
func TestDeadEndpointTripsItsCircuitOnly(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	down := webhooktest.NewReceiver(t, "")
	down.Always(http.StatusServiceUnavailable)
	up := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, n.URL(), dbURL, down.Destination("down"), up.Destination("up"))
	e["NOTIFICATIONS_MAX_CONCURRENT"] = "4"
	e["NOTIFICATIONS_RETRY_WORKERS"] = "4"
	e["NOTIFICATIONS_MAX_RETRIES"] = "2"
	e["NOTIFICATIONS_RETRY_BACKOFF"] = "50ms"
	e["NOTIFICATIONS_CIRCUIT_THRESHOLD"] = "3"
	e["NOTIFICATIONS_CIRCUIT_COOLDOWN"] = "300ms"
	startFleet(t, e, wholeFleet)

	nc, _ := jsFor(t, n)
	pub, _ := sdk.NewPublisher(nc)
	events := mixedEvents(t, 40, "acme")
	publishAll(t, pub, events)

	up.WaitForDelivered(t, len(events), time.Minute)
	db := ledger(t, dbURL)
	testutil.WaitFor(t, time.Minute, "every delivery to the dead endpoint to end dead", func() bool {
		return statusCounts(t, db)["dead"] == len(events)
	})
	// Without the breaker the dead endpoint would get 3 requests per event.
	if got, without := down.Count(), 3*len(events); got > without/3 {
		t.Errorf("the dead endpoint got %d requests; want far fewer than the %d it gets without a breaker", got, without)
	}
	var held int
	if err := db.QueryRow(context.Background(),
		`SELECT COUNT(*) FROM notification_deliveries WHERE destination = 'down' AND last_error LIKE '%circuit open%'`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held == 0 {
		t.Error("no delivery of the dead endpoint says it was held by the open circuit")
	}
	t.Logf("dead endpoint: %d requests for %d deliveries; %d ended held by the circuit", down.Count(), len(events), held)
}
