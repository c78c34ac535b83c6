package store

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkCollapse collapses a recorder batch of 500 results: a pending record and a
// delivered attempt for each of 250 deliveries.
func BenchmarkCollapse(b *testing.B) {
	now := time.Now()
	rs := make([]Result, 0, 500)
	for i := range 250 {
		id := "01JDQ5Z8X1Y2Z3A4B5C6D7E8F" + strconv.Itoa(i) + ":ops"
		r := Result{DeliveryID: id, EventID: id[:26], TenantID: "acme", EventType: "payment.succeeded",
			Channel: "webhook", Destination: "ops", Status: StatusPending, At: now}
		rs = append(rs, r)
		r.Attempt, r.Status, r.HTTPStatus, r.At = 1, StatusDelivered, 204, now.Add(time.Millisecond)
		rs = append(rs, r)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Collapse(rs, now); err != nil {
			b.Fatal(err)
		}
	}
}
