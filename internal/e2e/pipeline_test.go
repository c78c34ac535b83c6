package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// mixedEvents builds n events of the eight seed types and one custom type, spread over the
// given tenants.
func mixedEvents(t *testing.T, n int, tenants ...string) []*sdk.Event {
	t.Helper()
	out := make([]*sdk.Event, 0, n)
	for i := range n {
		tenant := tenants[i%len(tenants)]
		var (
			ev  *sdk.Event
			err error
		)
		switch i % 9 {
		case 0:
			ev, err = sdk.NewTenantCreated(tenant, sdk.TenantCreated{Name: "Acme " + fmt.Sprint(i), Email: "ops@acme.test", BillingPlan: "pro"})
		case 1:
			ev, err = sdk.NewPaymentSucceeded(tenant, sdk.PaymentSucceeded{TenantName: "Acme", Amount: 42.5, Currency: "EUR", PaymentID: fmt.Sprint("pay_", i)})
		case 2:
			ev, err = sdk.NewPaymentFailed(tenant, sdk.PaymentFailed{TenantID: tenant, Reason: "card declined", Amount: 10})
		case 3:
			ev, err = sdk.NewNodeLaunched(tenant, sdk.NodeLaunched{NodeID: fmt.Sprint("n", i), Provider: "aws", Region: "eu-west-1", GPUType: "H100", GPUCount: 8})
		case 4:
			ev, err = sdk.NewNodeTerminated(tenant, sdk.NodeTerminated{NodeID: fmt.Sprint("n", i), Reason: "spot reclaim"})
		case 5:
			ev, err = sdk.NewNodeHealthDegraded(tenant, sdk.NodeHealthDegraded{NodeID: fmt.Sprint("n", i), HealthScore: 0.4, Issues: []string{"xid 79"}})
		case 6:
			ev, err = sdk.NewCostAnomalyDetected(tenant, sdk.CostAnomalyDetected{CurrentCost: 900, AverageCost: 300, Threshold: 2})
		case 7:
			ev, err = sdk.NewRateLimitThresholdReached(tenant, sdk.RateLimitThresholdReached{Usage: 900, Limit: 1000, ThresholdPercent: 90})
		default:
			ev, err = sdk.New("deploy.finished", tenant, map[string]any{"service": "api", "version": i})
		}
		if err != nil {
			t.Fatalf("build event %d: %v", i, err)
		}
		out = append(out, ev)
	}
	return out
}

func publishAll(t *testing.T, pub *sdk.Publisher, events []*sdk.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for start := 0; start < len(events); start += 200 {
		end := min(start+200, len(events))
		if _, err := pub.PublishBatch(ctx, events[start:end]); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
}

// TestThousandEventsThreeTenants: every routed delivery reaches its receiver once with a
// signature that verifies, and the ledger holds one row per delivery, delivered.
func TestThousandEventsThreeTenants(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	ops := webhooktest.NewReceiver(t, "")
	billing := webhooktest.NewReceiver(t, "")
	e := baseEnv(t, n.URL(), dbURL, ops.Destination("ops"), billing.Destination("billing"))
	// Payments go to billing only, node and cost events to ops only, everything else to both.
	e["NOTIFICATIONS_ROUTES"] = `{"payment.*":["billing"],"node.*":["ops"],"cost.*":["ops"],"tenant.*":["ops","billing"],"ratelimit.*":["webhook"],"deploy.*":["ops","billing"]}`
	startFleet(t, e, wholeFleet)

	nc, _ := jsFor(t, n)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	events := mixedEvents(t, 1000, "acme", "globex", "initech")
	wantOps, wantBilling := map[string]bool{}, map[string]bool{}
	for _, ev := range events {
		switch {
		case strings.HasPrefix(ev.Type, "payment."):
			wantBilling[ev.ID+":billing"] = true
		case strings.HasPrefix(ev.Type, "node."), strings.HasPrefix(ev.Type, "cost."):
			wantOps[ev.ID+":ops"] = true
		default: // tenant.*, ratelimit.* (the webhook channel: both), deploy.*
			wantOps[ev.ID+":ops"] = true
			wantBilling[ev.ID+":billing"] = true
		}
	}
	publishAll(t, pub, events)

	ops.WaitForUnique(t, len(wantOps), 2*time.Minute)
	billing.WaitForUnique(t, len(wantBilling), 2*time.Minute)
	for name, c := range map[string]struct {
		r    *webhooktest.Receiver
		want map[string]bool
	}{"ops": {ops, wantOps}, "billing": {billing, wantBilling}} {
		if bad := c.r.BadSignatures(); bad != 0 {
			t.Errorf("%s: %d requests failed signature verification", name, bad)
		}
		for id, reqs := range c.r.ByID() {
			if !c.want[id] {
				t.Errorf("%s received %s, which was not routed there", name, id)
			}
			if len(reqs) != 1 {
				t.Errorf("%s received %s %d times, want once", name, id, len(reqs))
			}
			var got sdk.Event
			if err := json.Unmarshal(reqs[0].Body, &got); err != nil || got.ID+":"+name != id {
				t.Errorf("%s: body of %s is not its event: %v", name, id, err)
			}
		}
	}

	db := ledger(t, dbURL)
	total := len(wantOps) + len(wantBilling)
	testutil.WaitFor(t, time.Minute, "ledger rows all delivered", func() bool {
		return statusCounts(t, db)["delivered"] == total
	})
	if c := ledgerStatuses(t, db); len(c) != 1 {
		t.Errorf("ledger statuses = %v, want only %d delivered", c, total)
	}
	var attempts int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM notification_attempts`).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != total {
		t.Errorf("notification_attempts has %d rows, want %d (one per delivery)", attempts, total)
	}
	// The original design's query works as written.
	rows, err := db.Query(context.Background(), `SELECT event_type, channel, status, COUNT(*) FROM notification_deliveries WHERE created_at > NOW() - INTERVAL '24 hours' GROUP BY event_type, channel, status`)
	if err != nil {
		t.Fatalf("design query: %v", err)
	}
	wantTypes := map[string]int{} // deliveries per event type
	for _, ev := range events {
		switch {
		case strings.HasPrefix(ev.Type, "payment."), strings.HasPrefix(ev.Type, "node."), strings.HasPrefix(ev.Type, "cost."):
			wantTypes[ev.Type]++
		default:
			wantTypes[ev.Type] += 2
		}
	}
	gotTypes := map[string]int{}
	for rows.Next() {
		var eventType, channel, status string
		var n int
		if err := rows.Scan(&eventType, &channel, &status, &n); err != nil {
			t.Fatalf("design query: %v", err)
		}
		if channel != "webhook" || status != "delivered" {
			t.Errorf("design query: %d %s deliveries on %s are %s, want webhook and delivered", n, eventType, channel, status)
		}
		gotTypes[eventType] += n
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("design query: %v", err)
	}
	rows.Close()
	if len(gotTypes) != 9 || !maps.Equal(gotTypes, wantTypes) {
		t.Errorf("design query counts deliveries per type %v, want %v", gotTypes, wantTypes)
	}
}

// TestRetryThenDeliver: an endpoint that fails its first two attempts is delivered on the
// third, after the configured delays, and the ledger shows three attempts.
func TestRetryThenDeliver(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	r := webhooktest.NewReceiver(t, "")
	r.FailFirst(2, http.StatusServiceUnavailable)
	e := baseEnv(t, n.URL(), dbURL, r.Destination("flaky"))
	e["NOTIFICATIONS_RETRY_BACKOFF"] = "300ms,600ms"
	startFleet(t, e, wholeFleet)

	nc, js := jsFor(t, n)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "expired card", Amount: 99})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	r.WaitForDelivered(t, 1, 30*time.Second)

	reqs := r.ByID()[ev.ID+":flaky"]
	if len(reqs) != 3 {
		t.Fatalf("got %d requests, want 3", len(reqs))
	}
	// Delays are jittered by ±20%.
	for i, want := range []time.Duration{300 * time.Millisecond, 600 * time.Millisecond} {
		if gap := reqs[i+1].Time.Sub(reqs[i].Time); gap < want*8/10 {
			t.Errorf("retry %d came %s after the previous attempt, want at least %s", i+1, gap, want*8/10)
		}
	}
	db := ledger(t, dbURL)
	testutil.WaitFor(t, 30*time.Second, "ledger row delivered", func() bool {
		return statusCounts(t, db)["delivered"] == 1
	})
	var attempts int
	var lastErr string
	if err := db.QueryRow(context.Background(), `SELECT attempts, COALESCE(last_error, '') FROM notification_deliveries WHERE event_id = $1`, ev.ID).Scan(&attempts, &lastErr); err != nil {
		t.Fatal(err)
	}
	if attempts != 3 {
		t.Errorf("ledger attempts = %d, want 3", attempts)
	}
	// The row is the latest attempt's: delivered, with no error.
	if lastErr != "" {
		t.Errorf("ledger last_error = %q for a delivered row, want none", lastErr)
	}
	var perAttempt []string
	rows, err := db.Query(context.Background(), `SELECT status FROM notification_attempts WHERE delivery_id = $1 ORDER BY attempt`, ev.ID+":flaky")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		perAttempt = append(perAttempt, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	var timed int
	if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM notification_attempts WHERE delivery_id = $1 AND http_status > 0 AND duration_ms >= 0`, ev.ID+":flaky").Scan(&timed); err != nil || timed != 3 {
		t.Errorf("%d attempt rows carry the HTTP status and duration, want 3 (%v)", timed, err)
	}
	if got := strings.Join(perAttempt, ","); got != "retrying,retrying,delivered" {
		t.Errorf("attempt rows = %s, want retrying,retrying,delivered", got)
	}
	if dead := deadMessages(t, js); len(dead) != 0 {
		t.Errorf("%d dead letters for a delivery that got through, want none", len(dead))
	}
}

// TestPermanentAndExhausted: a 400 is not retried and ends in DEAD as failed; an endpoint
// that never recovers ends in DEAD as dead after the configured attempts.
func TestPermanentAndExhausted(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	bad := webhooktest.NewReceiver(t, "")
	bad.Always(http.StatusBadRequest)
	down := webhooktest.NewReceiver(t, "")
	down.Always(http.StatusBadGateway)
	e := baseEnv(t, n.URL(), dbURL, bad.Destination("bad"), down.Destination("down"))
	e["NOTIFICATIONS_MAX_RETRIES"] = "2"
	e["NOTIFICATIONS_RETRY_BACKOFF"] = "100ms"
	startFleet(t, e, wholeFleet)

	nc, js := jsFor(t, n)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sdk.NewNodeTerminated("acme", sdk.NodeTerminated{NodeID: "n1", Reason: "spot reclaim"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	db := ledger(t, dbURL)
	testutil.WaitFor(t, 30*time.Second, "one failed and one dead row", func() bool {
		c := statusCounts(t, db)
		return c["failed"] == 1 && c["dead"] == 1
	})
	if got := len(bad.Requests()); got != 1 {
		t.Errorf("the 400 endpoint got %d requests, want 1 (no retry)", got)
	}
	if got := len(down.Requests()); got != 3 {
		t.Errorf("the 502 endpoint got %d requests, want 3 (1 + 2 retries)", got)
	}
	want := map[string]string{ev.ID + ":bad": "failed", ev.ID + ":down": "dead"}
	var dead []string
	testutil.WaitFor(t, 10*time.Second, "two dead letters", func() bool {
		return len(deadMessages(t, js)) == 2
	})
	for _, m := range deadMessages(t, js) {
		id := m.Headers().Get("Herald-Delivery-Id")
		status := m.Headers().Get("Herald-Dead-Status")
		if want[id] != status {
			t.Errorf("dead letter %s has status %q, want %q", id, status, want[id])
		}
		if !strings.HasPrefix(m.Subject(), "herald.dead.webhook.acme") {
			t.Errorf("dead letter on %s, want herald.dead.webhook.acme", m.Subject())
		}
		if m.Headers().Get("Herald-Dead-Reason") == "" {
			t.Errorf("dead letter %s has no reason", id)
		}
		dead = append(dead, id)
	}
	slices.Sort(dead)
	if wantIDs := slices.Sorted(maps.Keys(want)); !slices.Equal(dead, wantIDs) {
		t.Errorf("dead letters for %v, want one each for %v", dead, wantIDs)
	}
	if c := ledgerStatuses(t, db); len(c) != 2 {
		t.Errorf("ledger statuses %v, want one failed and one dead", c)
	}
	var attempts int
	if err := db.QueryRow(context.Background(), `SELECT attempts FROM notification_deliveries WHERE delivery_id = $1`, ev.ID+":down").Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != 3 {
		t.Errorf("dead delivery has %d attempts in the ledger, want 3", attempts)
	}
}
