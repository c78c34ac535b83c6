package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// BenchmarkPipeline measures the whole pipeline in one process: events published in batches
// through the SDK, dispatched, delivered to a loopback webhook receiver (signed and
// verified), and recorded in PostgreSQL. It reports deliveries per second from the first
// publish to the last delivery, and to the last ledger row.
//
//	go test -run '^$' -bench BenchmarkPipeline -benchtime 20000x ./internal/e2e/
func BenchmarkPipeline(b *testing.B) {
	n := testutil.StartNATS(b)
	dbURL := testutil.NewDatabase(b)
	r := webhooktest.NewReceiver(b, "")
	e := baseEnv(b, n.URL(), dbURL, r.Destination("ops"))
	e["NOTIFICATIONS_LOG_LEVEL"] = "warn"
	f := startFleet(b, e, wholeFleet)
	defer f.Stop()
	nc := n.Connect(b)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		b.Fatal(err)
	}
	events := make([]*sdk.Event, b.N)
	for i := range events {
		var err error
		if events[i], err = sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 12.5, Currency: "EUR", PaymentID: "pay_1"}); err != nil {
			b.Fatal(err)
		}
	}
	db := ledger(b, dbURL)

	b.ResetTimer()
	start := time.Now()
	ctx := context.Background()
	for i := 0; i < len(events); i += 500 {
		if _, err := pub.PublishBatch(ctx, events[i:min(i+500, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	r.WaitForDelivered(b, b.N, 10*time.Minute)
	delivered := time.Since(start)
	testutil.WaitFor(b, 10*time.Minute, "ledger complete", func() bool {
		return statusCounts(b, db)["delivered"] == b.N
	})
	recorded := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/delivered.Seconds(), "deliveries/s")
	b.ReportMetric(float64(b.N)/recorded.Seconds(), "recorded/s")
}
