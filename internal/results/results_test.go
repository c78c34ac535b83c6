package results

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

// TestEncodeMatchesJSONMarshal: the faster encoder writes what encoding/json writes,
// escaping included, so results read the same wherever they are decoded.
func TestEncodeMatchesJSONMarshal(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 28, 14, 49, 6, 123456789, time.UTC)
	for _, res := range []store.Result{
		{},
		{DeliveryID: "01J:ops", EventID: "01J", TenantID: "acme", EventType: "payment.succeeded", Channel: "webhook",
			Destination: "ops", Attempt: 1, Status: store.StatusPending, At: at},
		{DeliveryID: "01J:ops", EventID: "01J", TenantID: "acme", EventType: "payment.succeeded", Channel: "webhook",
			Destination: "ops", Attempt: 3, Status: store.StatusRetrying, Error: `HTTP 503: "busy" <b>&\ntab\t é \u2028`,
			HTTPStatus: 503, DurationMS: -7, At: at.In(time.FixedZone("x", 3600))},
		{Attempt: -1, HTTPStatus: 204, DurationMS: 1 << 40, Error: "\xff invalid utf-8", At: time.Unix(0, 0)},
	} {
		want, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Encode(res)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("EncodeResult:\n got %s\nwant %s", got, want)
		}
	}
}

// TestDecodeResultsMatchesJSONUnmarshal checks that the faster decoder reads every body as
// json.Unmarshal does, and refuses what it refuses.
func TestDecodeResultsMatchesJSONUnmarshal(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`[]`, ` [ ] `, `null`, `[null]`, `{}`, `[{}]`, `[{}, {} ]`, ``, `[`, `[{]`, `[{}]x`, `[{}],`,
		`[{"delivery_id":"a:b","event_id":"a","tenant_id":"t","event_type":"x.y","channel":"webhook","destination":"b","attempt":1,"status":"delivered","http_status":204,"duration_ms":3,"at":"2026-11-28T14:49:06.123456789Z"}]`,
		"[\n {\"delivery_id\" : \"a:b\" ,\"attempt\":2,\"at\":\"2026-11-28T14:49:06+01:00\"}\t]",
		`[{"Delivery_ID":"case"}]`, `[{"unknown":1,"attempt":2}]`, `[{"error":"with \"escape\" \u00e9"}]`,
		`[{"error":"é raw utf-8"}]`, `[{"error":"bad \xff"}]`, `[{"error":null}]`, `[{"attempt":null}]`,
		`[{"attempt":1.5}]`, `[{"attempt":1e2}]`, `[{"attempt":01}]`, `[{"attempt":-0}]`, `[{"attempt":-}]`,
		`[{"attempt":"1"}]`, `[{"duration_ms":99999999999999999999}]`, `[{"duration_ms":-9223372036854775808}]`,
		`[{"at":"2026-11-28"}]`, `[{"at":"2026-11-28T14:49:06Z"},{"at":""}]`, `[{"at":"2026-11-28T24:00:00Z"}]`,
		`[{"attempt":1,"attempt":2}]`, `[{"channel":"ctl` + "\x01" + `"}]`, `[{"channel":"a"`, `[{"channel":"a",}]`,
	} {
		var want []store.Result
		wantErr := json.Unmarshal([]byte(body), &want)
		got, err := Decode([]byte(body))
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, json.Unmarshal's %v", body, err, wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Errorf("%s:\n got %+v\nwant %+v", body, got, want)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	res := store.Result{DeliveryID: "01JSAMPLE00000000000000003:ops", EventID: "01JSAMPLE00000000000000003", TenantID: "acme",
		EventType: "payment.failed", Channel: "webhook", Destination: "ops", Attempt: 1, Status: store.StatusDelivered,
		HTTPStatus: 200, DurationMS: 3, At: time.Date(2026, 11, 28, 14, 49, 6, 123456789, time.UTC)}
	b.Run("herald", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Encode(res); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(res); err != nil {
				b.Fatal(err)
			}
		}
	})
}
