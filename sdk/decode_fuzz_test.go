package sdk_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// decodeSeeds are encoded events the decoder fuzz targets start from: every seed type as the
// constructors build it, and the edges the dispatcher meets (case-folded and duplicate keys,
// escapes, nulls, numbers at the ends of their range, data that does not fit its type).
func decodeSeeds(f *testing.F) [][]byte {
	f.Helper()
	at := sdk.WithTime(time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC))
	var out [][]byte
	for _, build := range []func() (*sdk.Event, error){
		func() (*sdk.Event, error) {
			return sdk.NewTenantCreated("acme", sdk.TenantCreated{Name: "Acme", Email: "ops@acme.example", BillingPlan: "pro"}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 1249.5, Currency: "USD", PaymentID: "pay_1"}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 89}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.NewNodeLaunched("", sdk.NodeLaunched{NodeID: "n-1", GPUType: "H100", GPUCount: 8, Spot: true, PricePerHour: 12.34,
				LaunchDuration: sdk.SecondsOf(94 * time.Second)}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.NewNodeTerminated("acme", sdk.NodeTerminated{NodeID: "n-1", TimeRemaining: 120, Reason: "spot reclaim"}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.NewNodeHealthDegraded("acme", sdk.NodeHealthDegraded{NodeID: "n-1", HealthScore: 0.4, Issues: []string{"xid 79"}}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.NewCostAnomalyDetected("acme", sdk.CostAnomalyDetected{CurrentCost: 900, AverageCost: 300, Threshold: 2}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.NewRateLimitThresholdReached("acme", sdk.RateLimitThresholdReached{Usage: 900, Limit: 1000, ThresholdPercent: 90}, at)
		},
		func() (*sdk.Event, error) {
			return sdk.New("order.shipped", "acme", map[string]any{"order_id": "o-1", "items": 3, "tracking": map[string]any{"n": "x"}}, at)
		},
	} {
		ev, err := build()
		if err != nil {
			f.Fatal(err)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	for _, s := range []string{
		`{"specversion":"1.0","id":"e1","source":"s","type":"payment.failed","tenantid":"acme","data":{"reason":"x","amount":"49.99"}}`,
		`{"SpecVersion":"1.0","ID":"e1","SOURCE":"s","Type":"x.y","id":"e2"}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"node.terminated","data":{"node_id":"n","time_remaining":"PT2M"}}`,
		`{"specversion":"1.0","id":"e\u00e9","source":"s","type":"a","data":null}`,
		`{"specversion":"1.0","id":"tab\u0009","source":"s","type":"a","data":{}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a","time":"2026-11-28T09:30:00.123456789+14:00","data":[1e308,-0,"\ud800"]}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a.b","severity":"critical","tenantid":"_","data":{"n":1e400}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"cost.anomaly_detected","data":null}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"node.launched","data":{"gpu_count":8.0,"spot":"TRUE","node_id":7}}`,
		`{"specversion":"1.0","id":"e1","source":"s","type":"a"} `,
		`{"specversion":"1.0","id":"e1",`,
		`[]`, `null`, ``,
	} {
		out = append(out, []byte(s))
	}
	return out
}

// FuzzDecode: Decode never panics; it refuses with a *ValidationError, and what it accepts
// is what encoding/json reads from the same bytes, passes Validate, travels on a valid
// subject, and survives being encoded and decoded again unchanged.
func FuzzDecode(f *testing.F) {
	for _, b := range decodeSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := sdk.Decode(b)
		if err != nil {
			var ve *sdk.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, sdk.ErrInvalidEvent) || ve.Field == "" {
				t.Fatalf("Decode error %v (%T) is not a *ValidationError naming a field", err, err)
			}
			return
		}
		if e == nil {
			t.Fatal("Decode returned neither an event nor an error")
		}
		// The body is JSON, as encoding/json reads it: the dispatcher and every other reader
		// of the event (receivers, tools in other languages) see the same event.
		var std sdk.Event
		if err := json.Unmarshal(b, &std); err != nil {
			t.Fatalf("Decode accepted a body that encoding/json refuses (%v): %q", err, b)
		}
		if !sameEvent(e, &std) {
			t.Fatalf("Decode and encoding/json read %q differently:\n Decode %#v\n   json %#v", b, e, &std)
		}
		if err := e.Validate(); err != nil {
			t.Fatalf("Decode accepted an event that Validate refuses: %v", err)
		}
		// The subject is exactly <prefix>.events.<tenant|_>.<type>: no empty token, no
		// wildcard, no white space, so that the event lands where its attributes say.
		subject := e.Subject("herald")
		tokens := strings.Split(subject, ".")
		if len(tokens) < 4 || tokens[2] != e.Tenant() || strings.Join(tokens[3:], ".") != e.Type {
			t.Fatalf("subject %q does not carry tenant %q and type %q", subject, e.Tenant(), e.Type)
		}
		for _, tok := range tokens {
			if tok == "" || strings.ContainsAny(tok, "*> \t\r\n") {
				t.Fatalf("subject %q has an invalid token %q", subject, tok)
			}
		}
		// The webhook-id built from the id must be a valid HTTP header value (no control
		// characters), or no webhook of this event could ever be sent.
		for i := 0; i < len(e.ID); i++ {
			if c := e.ID[i]; c < ' ' || c == 0x7f {
				t.Fatalf("Decode accepted id %q, which holds control character %#x and cannot be sent as a webhook-id", e.ID, c)
			}
		}
		again, err := json.Marshal(e)
		if err != nil {
			t.Fatalf("encode a decoded event: %v", err)
		}
		e2, err := sdk.Decode(again)
		if err != nil {
			t.Fatalf("a decoded event, encoded again, does not decode: %v\n%s", err, again)
		}
		if !sameEvent(e, e2) {
			t.Fatalf("round trip changed the event:\n before %#v\n  after %#v", e, e2)
		}
	})
}

// sameEvent compares two events attribute by attribute, times by instant and data as JSON
// values (an encoder may re-space them).
func sameEvent(a, b *sdk.Event) bool {
	if a.SpecVersion != b.SpecVersion || a.ID != b.ID || a.Source != b.Source || a.Type != b.Type ||
		!a.Time.Equal(b.Time) || a.DataContentType != b.DataContentType || a.TenantID != b.TenantID || a.Severity != b.Severity {
		return false
	}
	if len(a.Data) == 0 || len(b.Data) == 0 {
		return len(a.Data) == len(b.Data)
	}
	da, errA := jsonValue(a.Data)
	db, errB := jsonValue(b.Data)
	return errA == nil && errB == nil && reflect.DeepEqual(da, db)
}

// jsonValue decodes a JSON document keeping numbers as written, so that numbers beyond
// float64 compare too.
func jsonValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// FuzzValidateData: for any type and data, the strict check the dispatcher runs
// (ValidateData, DecodePayload) and the lenient decoder the renderer reads data with
// (DecodeDataLenient) never panic and agree on what the strict one accepts, and the lenient
// one names only fields of the payload, in words that never quote the data.
func FuzzValidateData(f *testing.F) {
	for _, b := range decodeSeeds(f) {
		var raw struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if json.Unmarshal(b, &raw) == nil {
			f.Add(raw.Type, []byte(raw.Data))
		}
	}
	f.Add(sdk.TypeNodeTerminated, []byte(`{"node_id":"n","time_remaining":"1d 2h","reason":["a"]}`))
	f.Add(sdk.TypeNodeHealthDegraded, []byte(`{"node_id":"n","issues":"one","health_score":"0.5"}`))
	f.Add(sdk.TypeNodeLaunched, []byte(`{"gpu_count":"9223372036854775808","launch_duration":"P1Y"}`))

	f.Fuzz(func(t *testing.T, eventType string, data []byte) {
		strictErr := sdk.ValidateData(eventType, data)
		p, bad, err := sdk.DecodeDataLenient(eventType, data)
		strict, decodeErr := sdk.DecodePayload(&sdk.Event{Type: eventType, Data: data})
		if !slicesContains(sdk.KnownTypes(), eventType) {
			if strictErr != nil {
				t.Errorf("ValidateData checked data of custom type %q: %v", eventType, strictErr)
			}
			if !errors.Is(err, sdk.ErrUnknownType) || !errors.Is(decodeErr, sdk.ErrUnknownType) {
				t.Errorf("custom type %q: DecodeDataLenient %v, DecodePayload %v, want ErrUnknownType", eventType, err, decodeErr)
			}
			return
		}
		if err != nil {
			t.Fatalf("DecodeDataLenient(%q): %v", eventType, err)
		}
		if p == nil || p.EventType() != eventType {
			t.Fatalf("DecodeDataLenient(%q) returned a payload of type %v", eventType, p)
		}
		if strictErr != nil {
			var ve *sdk.ValidationError
			if !errors.As(strictErr, &ve) || (ve.Field != "data" && !strings.HasPrefix(ve.Field, "data.")) {
				t.Errorf("ValidateData error %v is not a *ValidationError naming data or one of its fields", strictErr)
			}
		}
		names := jsonNames(reflect.TypeOf(p))
		for _, m := range bad {
			if m.Field != "data" && !names[m.Field] {
				t.Errorf("mismatch names %q, not a field of %T: %+v", m.Field, p, bad)
			}
			if m.Reason == "" {
				t.Errorf("mismatch of %q says nothing", m.Field)
			}
			for _, s := range stringValues(data) {
				if len(s) >= 16 && strings.Contains(m.Reason, s) {
					t.Errorf("mismatch reason %q quotes the data", m.Reason)
				}
			}
		}
		if strictErr == nil && !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			// The strict check takes null for a type without required fields (it decodes
			// into the zero payload); the lenient decoder reads no fields from it, and says
			// so about the data as a whole.
			if len(bad) != 1 || bad[0].Field != "data" || !reflect.ValueOf(p).IsZero() {
				t.Fatalf("strictly valid %s data %q read leniently as %#v with mismatches %+v", eventType, data, p, bad)
			}
		} else if strictErr == nil {
			// What producers may send (the strict check), the renderer reads as they meant.
			if decodeErr != nil {
				t.Fatalf("ValidateData accepted data that DecodePayload refuses: %v", decodeErr)
			}
			if len(bad) > 0 || !reflect.DeepEqual(p, strict) {
				t.Fatalf("strictly valid %s data %q read leniently as %#v with mismatches %+v; strictly as %#v", eventType, data, p, bad, strict)
			}
		}
	})
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// jsonNames returns the JSON names of a payload struct's fields.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" {
			name = t.Field(i).Name
		}
		names[name] = true
	}
	return names
}

// stringValues returns the strings of a JSON document, keys excluded, or nothing when it
// does not parse.
func stringValues(data []byte) []string {
	var v any
	if json.Unmarshal(data, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case string:
			out = append(out, v)
		case []any:
			for _, x := range v {
				walk(x)
			}
		case map[string]any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}
