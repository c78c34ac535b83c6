package sdk

import (
	"encoding/json"
	"reflect"
	"testing"
)

// TestDecodeJSONAgreesWithEncodingJSON: the fast decoder accepts and refuses what
// encoding/json does, decodes to the same values, and its errors are encoding/json's.
func TestDecodeJSONAgreesWithEncodingJSON(t *testing.T) {
	t.Parallel()
	events := []string{
		`{"specversion":"1.0","id":"01J","source":"billing","type":"payment.failed","time":"2026-11-28T09:30:00Z","datacontenttype":"application/json","data":{"tenant_id":"acme","reason":"card \"declined\" é \u2028","amount":89.5},"tenantid":"acme","severity":"warning"}`,
		`{"SpecVersion":"1.0","ID":"case-insensitive keys"}`, `{"id":"x","unknown":[1,{"a":null}]}`, `{"data":null}`,
		`{"id":5}`, `{"time":"yesterday"}`, `{"data":{"a":}}`, `{"specversion":`, `not json`, `[1]`, `null`, ``,
		`{"id":"x"} trailing`, `{"id":"\ud800"}`, "{\"id\":\"ctl\x01\"}", `{"id":"x","id":"y"}`, `{"data":{"n":1e400}}`,
	}
	for _, body := range events {
		var want Event
		wantErr := json.Unmarshal([]byte(body), &want)
		got, err := decodeJSON[Event]([]byte(body))
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Errorf("%s: error %v, encoding/json's %v", body, err, wantErr)
			continue
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", body, got, want)
		}
	}
	for _, body := range []string{`{"tenant_id":"acme","reason":"x","amount":1}`, `{"amount":"x"}`, `{"amount":1,"amount":2}`, `{"reason":null}`, `{`} {
		var want PaymentFailed
		wantErr := json.Unmarshal([]byte(body), &want)
		got, err := decodeJSON[PaymentFailed]([]byte(body))
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) || (err == nil && got != want) {
			t.Errorf("%s: %+v, %v; encoding/json: %+v, %v", body, got, err, want, wantErr)
		}
	}
}
