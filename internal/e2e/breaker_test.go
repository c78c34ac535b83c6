package e2e

import (
	"context"
	"hash/fnv"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestSomeBadEventsNeverDeadLetterABusyDestination is the case a new user hit: 500 events to
// one webhook destination, a tenth of them answered 500 twice before succeeding, three
// retries with short backoff. The destination answers most sends, so its circuit must not
// open, and with three retries for two failures nothing may end in DEAD.
func TestSomeBadEventsNeverDeadLetterABusyDestination(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	rcv := webhooktest.NewReceiver(t, "")
	rcv.Respond(func(r *http.Request, _ []byte, attempt int) int {
		h := fnv.New32a()
		h.Write([]byte(r.Header.Get("webhook-id")))
		if h.Sum32()%10 == 0 && attempt <= 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	e := baseEnv(t, n.URL(), dbURL, rcv.Destination("hook"))
	e["NOTIFICATIONS_MAX_RETRIES"] = "3"
	e["NOTIFICATIONS_RETRY_BACKOFF"] = "200ms,400ms,800ms"
	// The breaker at its defaults, as the user ran it.
	startFleet(t, e, wholeFleet)

	nc, js := jsFor(t, n)
	pub, _ := sdk.NewPublisher(nc)
	events := mixedEvents(t, 500, "acme")
	publishAll(t, pub, events)

	rcv.WaitForDelivered(t, len(events), 2*time.Minute)
	db := ledger(t, dbURL)
	testutil.WaitFor(t, time.Minute, "the ledger to show every delivery delivered", func() bool {
		return statusCounts(t, db)["delivered"] == len(events)
	})
	if got := statusCounts(t, db); len(got) != 1 {
		t.Errorf("ledger statuses %v, want every delivery delivered", got)
	}
	if dead := deadMessages(t, js); len(dead) != 0 {
		t.Errorf("%d dead letters, want none; the first says %q", len(dead), dead[0].Headers().Get("Herald-Dead-Reason"))
	}
	var failedTwice int
	for _, reqs := range rcv.ByID() {
		if len(reqs) == 3 {
			failedTwice++
		}
	}
	if failedTwice < 20 {
		t.Errorf("only %d deliveries failed twice before succeeding: the test proves little", failedTwice)
	}
}

// TestOpenCircuitHoldsWithoutSpendingAttempts: a destination goes down, its circuit opens,
// and while it is open deliveries keep arriving for it. They are held, not sent and not
// charged, so when the destination comes back they are all delivered. Only the deliveries
// that really failed all their attempts before the circuit opened may be dead, each after
// exactly its attempts; no dead letter is ever the breaker's doing. A healthy destination on
// the same channel is not slowed.
func TestOpenCircuitHoldsWithoutSpendingAttempts(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	var down atomic.Bool
	down.Store(true)
	flaky := webhooktest.NewReceiver(t, "")
	flaky.Respond(func(*http.Request, []byte, int) int {
		if down.Load() {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	up := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, n.URL(), dbURL, flaky.Destination("flaky"), up.Destination("up"))
	e["NOTIFICATIONS_MAX_RETRIES"] = "1" // two attempts: little room, so a charged hold would show
	e["NOTIFICATIONS_RETRY_BACKOFF"] = "50ms"
	e["NOTIFICATIONS_CIRCUIT_THRESHOLD"] = "5"
	e["NOTIFICATIONS_CIRCUIT_COOLDOWN"] = "500ms"
	e["NOTIFICATIONS_CIRCUIT_MAX_COOLDOWN"] = "1s"
	f := startFleet(t, e, wholeFleet)

	nc, js := jsFor(t, n)
	pub, _ := sdk.NewPublisher(nc)
	first := mixedEvents(t, 10, "acme")
	publishAll(t, pub, first)
	testutil.WaitFor(t, time.Minute, "the flaky destination's circuit to open", func() bool {
		return len(logLines(f.logs.String(), "circuit opened", `"destination":"flaky"`)) > 0
	})
	held := mixedEvents(t, 60, "acme")
	publishAll(t, pub, held)
	up.WaitForDelivered(t, len(first)+len(held), time.Minute)
	// Let the circuit hold them through a failed probe or two, then bring the destination back.
	testutil.WaitFor(t, time.Minute, "the circuit to reopen after a failed probe", func() bool {
		return len(logLines(f.logs.String(), "circuit reopened", `"destination":"flaky"`)) > 0
	})
	down.Store(false)

	db := ledger(t, dbURL)
	total := len(first) + len(held)
	testutil.WaitFor(t, 2*time.Minute, "every flaky delivery to be settled", func() bool {
		var open int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM notification_deliveries
			WHERE destination = 'flaky' AND status IN ('delivered', 'dead', 'failed')`).Scan(&open); err != nil {
			t.Fatal(err)
		}
		return open == total
	})

	byID := flaky.ByID()
	for _, ev := range held {
		id := ev.ID + ":flaky"
		reqs := byID[id]
		if len(reqs) == 0 || reqs[len(reqs)-1].Status != http.StatusOK {
			t.Errorf("held delivery %s was not delivered (%d requests)", id, len(reqs))
		}
	}
	rows, err := db.Query(context.Background(), `SELECT delivery_id, status, attempts, last_error
		FROM notification_deliveries WHERE destination = 'flaky' AND status <> 'delivered'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var dead int
	for rows.Next() {
		var id, status, lastErr string
		var attempts int
		if err := rows.Scan(&id, &status, &attempts, &lastErr); err != nil {
			t.Fatal(err)
		}
		dead++
		if got := len(byID[id]); status != "dead" || attempts != 2 || got != 2 {
			t.Errorf("delivery %s ended %s after %d attempts and %d requests; want dead after its 2 attempts, both sent", id, status, attempts, got)
		}
		if strings.Contains(lastErr, "circuit") {
			t.Errorf("delivery %s died of the breaker: %q", id, lastErr)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if dead > len(first) {
		t.Errorf("%d flaky deliveries dead; only the %d sent before the circuit opened could be", dead, len(first))
	}
	for _, m := range deadMessages(t, js) {
		if r := m.Headers().Get("Herald-Dead-Reason"); strings.Contains(r, "circuit") {
			t.Errorf("a dead letter blames the breaker: %q", r)
		}
	}
	t.Logf("flaky destination: %d requests for %d deliveries, %d dead (sent before the circuit opened)", flaky.Count(), total, dead)
}
