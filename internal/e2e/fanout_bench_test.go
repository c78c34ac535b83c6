package e2e

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// BenchmarkPipelineFanOut10 is BenchmarkPipeline with every event routed to ten webhook
// destinations: b.N counts deliveries. It is the in-process profile of the fan-out path:
//
//	go test -run '^$' -bench BenchmarkPipelineFanOut10 -benchtime 50000x -cpuprofile cpu.out ./internal/e2e/
func BenchmarkPipelineFanOut10(b *testing.B) {
	const fanout = 10
	n := testutil.StartNATS(b)
	dbURL := testutil.NewDatabase(b)
	r := webhooktest.NewReceiver(b, "")
	dests := make([]channel.Destination, fanout)
	for i := range dests {
		dests[i] = r.Destination("d" + strconv.Itoa(i))
	}
	e := baseEnv(b, n.URL(), dbURL, dests...)
	e["NOTIFICATIONS_LOG_LEVEL"] = "warn"
	f := startFleet(b, e, wholeFleet)
	defer f.Stop()
	pub, err := sdk.NewPublisher(n.Connect(b))
	if err != nil {
		b.Fatal(err)
	}
	events := make([]*sdk.Event, (b.N+fanout-1)/fanout)
	for i := range events {
		var err error
		if events[i], err = sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 12.5, Currency: "EUR", PaymentID: "pay_1"}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < len(events); i += 500 {
		if _, err := pub.PublishBatch(context.Background(), events[i:min(i+500, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	r.WaitForDelivered(b, len(events)*fanout, 10*time.Minute)
	b.StopTimer()
	b.ReportMetric(float64(len(events)*fanout)/time.Since(start).Seconds(), "deliveries/s")
}
