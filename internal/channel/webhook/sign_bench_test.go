package webhook

import (
	"net/http"
	"testing"
	"time"
)

// BenchmarkSignHeaders is the signing part of every send: the cached signer for the
// destination's secret, and the Standard Webhooks headers over a typical event body.
func BenchmarkSignHeaders(b *testing.B) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"specversion":"1.0","id":"01JDQ5Z8X1Y2Z3A4B5C6D7E8F9","source":"billing","type":"payment.succeeded","time":"2026-11-28T12:00:00Z","datacontenttype":"application/json","data":{"tenant_name":"Acme","amount":12.5,"currency":"EUR","payment_id":"pay_1"},"tenantid":"acme","severity":"info"}`)
	c := newSignerCache(maxCachedSigners)
	h := http.Header{}
	ts := time.Now()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := c.get(secret)
		if err != nil {
			b.Fatal(err)
		}
		s.SetHeaders(h, "01JDQ5Z8X1Y2Z3A4B5C6D7E8F9:ops", ts, body)
	}
}
