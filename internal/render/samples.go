package render

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// SampleTime is the time of every sample event, so that renderings are reproducible.
var SampleTime = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

// CustomSampleType is the type of the sample event that no template knows by name: it shows
// the generic rendering of custom types.
const CustomSampleType = "order.shipped"

// Samples returns one realistic event of every seed type and one of a custom type, with
// fixed ids and times. Load test-renders every template with them; golden files and the
// preview command use them too.
func Samples() []*sdk.Event {
	opts := func(n int) []sdk.Option {
		return []sdk.Option{sdk.WithID(fmt.Sprintf("01JSAMPLE%017d", n)), sdk.WithSource("billing"), sdk.WithTime(SampleTime)}
	}
	must := func(e *sdk.Event, err error) *sdk.Event {
		if err != nil {
			panic("render: sample event: " + err.Error())
		}
		return e
	}
	custom := must(sdk.New(CustomSampleType, "acme", json.RawMessage(
		`{"order_id":"ord_8842","carrier":"DHL","items":3,"express":true,"tracking":{"number":"JD014600003SE","url":"https://track.example.com/JD014600003SE"}}`),
		opts(9)...))
	return []*sdk.Event{
		must(sdk.NewTenantCreated("acme", sdk.TenantCreated{Name: "Acme Corp", Email: "ops@acme.example", BillingPlan: "pro"}, opts(1)...)),
		must(sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme Corp", Amount: 1249.5, Currency: "USD", PaymentID: "pay_3QK2x9"}, opts(2)...)),
		must(sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card_declined: insufficient funds", Amount: 89}, opts(3)...)),
		must(sdk.NewNodeLaunched("acme", sdk.NodeLaunched{NodeID: "node-7f3a", Provider: "aws", Region: "us-east-1", GPUType: "H100", GPUCount: 8,
			Model: "llama-3.1-70b", Spot: true, PricePerHour: 12.34, LaunchDuration: sdk.SecondsOf(94 * time.Second)}, opts(4)...)),
		must(sdk.NewNodeTerminated("acme", sdk.NodeTerminated{NodeID: "node-7f3a", TimeRemaining: sdk.SecondsOf(2 * time.Minute), Reason: "spot instance reclaim"}, opts(5)...)),
		must(sdk.NewNodeHealthDegraded("acme", sdk.NodeHealthDegraded{NodeID: "node-7f3a", HealthScore: 0.42, Issues: []string{"GPU 3 ECC errors", "NVLink degraded"}}, opts(6)...)),
		must(sdk.NewCostAnomalyDetected("acme", sdk.CostAnomalyDetected{CurrentCost: 4210.75, AverageCost: 1180.2, Threshold: 2.5}, opts(7)...)),
		must(sdk.NewRateLimitThresholdReached("acme", sdk.RateLimitThresholdReached{Usage: 9500, Limit: 10000, ThresholdPercent: 95}, opts(8)...)),
		custom,
	}
}
