package recorder

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// BenchmarkDecode reads RESULTS messages as the workers (one result) and the dispatcher's
// batched pending records (many results) write them.
func BenchmarkDecode(b *testing.B) {
	for _, n := range []int{1, 64} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			rs := make([]store.Result, n)
			for i := range rs {
				id := "01JDQ5Z8X1Y2Z3A4B5C6D7E8F" + strconv.Itoa(i)
				rs[i] = store.Result{DeliveryID: id + ":ops", EventID: id, TenantID: "acme", EventType: "payment.succeeded",
					Channel: "webhook", Destination: "ops", Attempt: 1, Status: store.StatusDelivered,
					HTTPStatus: 204, DurationMS: 3, At: time.Now().UTC()}
			}
			body, err := json.Marshal(rs)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := decode(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
