package sdk_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/sdk"
)

// TestDecodeDataLenientSpellings: every reasonable spelling of a field decodes to the value
// the producer meant, with no mismatch; what cannot be interpreted is named, never fatal.
func TestDecodeDataLenientSpellings(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		eventType string
		data      string
		want      sdk.Payload
		bad       []string // fields reported as mismatches, in struct order
	}{
		// Seconds.
		{"seconds as a number", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":120}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 120}, nil},
		{"seconds with a fraction", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":90.5}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 90.5}, nil},
		{"seconds as a numeric string", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"93"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 93}, nil},
		{"Go duration 93s", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"93s"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 93}, nil},
		{"Go duration 2m", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"2m"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 120}, nil},
		{"Go duration 1m30.5s", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"1m30.5s"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 90.5}, nil},
		{"Go duration 1500ms", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"1500ms"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 1.5}, nil},
		{"ISO 8601 PT2M", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"PT2M"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 120}, nil},
		{"ISO 8601 PT1H30M15.5S", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"PT1H30M15.5S"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 5415.5}, nil},
		{"ISO 8601 P1DT1S, lower case", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"p1dt1s"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 86401}, nil},
		{"ISO 8601 weeks", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"P1W"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 604800}, nil},
		{"words", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"2 minutes 3 sec"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 123}, nil},
		{"words with a day", sdk.TypeNodeLaunched, `{"node_id":"n","launch_duration":"1d 2h"}`, sdk.NodeLaunched{NodeID: "n", LaunchDuration: 93600}, nil},
		{"padded", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"  93s "}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 93}, nil},
		{"null keeps zero", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":null}`, sdk.NodeTerminated{NodeID: "n"}, nil},
		{"not a duration", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"soon","reason":"spot"}`, sdk.NodeTerminated{NodeID: "n", Reason: "spot"}, []string{"time_remaining"}},
		{"ISO 8601 months are ambiguous", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"P1M"}`, sdk.NodeTerminated{NodeID: "n"}, []string{"time_remaining"}},
		{"empty ISO 8601", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"PT"}`, sdk.NodeTerminated{NodeID: "n"}, []string{"time_remaining"}},
		{"unknown unit", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"2 fortnights"}`, sdk.NodeTerminated{NodeID: "n"}, []string{"time_remaining"}},
		{"a boolean is no duration", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":true}`, sdk.NodeTerminated{NodeID: "n"}, []string{"time_remaining"}},
		{"an object is no duration", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":{"s":1}}`, sdk.NodeTerminated{NodeID: "n"}, []string{"time_remaining"}},

		// Numbers.
		{"amount as a string", sdk.TypePaymentFailed, `{"reason":"x","amount":"49.99"}`, sdk.PaymentFailed{Reason: "x", Amount: 49.99}, nil},
		{"amount padded", sdk.TypePaymentFailed, `{"reason":"x","amount":" 1e3 "}`, sdk.PaymentFailed{Reason: "x", Amount: 1000}, nil},
		{"amount in words", sdk.TypePaymentFailed, `{"reason":"x","amount":"ten"}`, sdk.PaymentFailed{Reason: "x"}, []string{"amount"}},
		{"amount with a currency sign is ambiguous", sdk.TypePaymentFailed, `{"reason":"x","amount":"$49.99"}`, sdk.PaymentFailed{Reason: "x"}, []string{"amount"}},
		{"decimal comma is ambiguous", sdk.TypePaymentFailed, `{"reason":"x","amount":"1,234"}`, sdk.PaymentFailed{Reason: "x"}, []string{"amount"}},
		{"NaN is no number", sdk.TypePaymentFailed, `{"reason":"x","amount":"NaN"}`, sdk.PaymentFailed{Reason: "x"}, []string{"amount"}},
		{"out of range", sdk.TypePaymentFailed, `{"reason":"x","amount":1e999}`, sdk.PaymentFailed{Reason: "x"}, []string{"amount"}},
		{"count as a string", sdk.TypeNodeLaunched, `{"node_id":"n","gpu_count":"8"}`, sdk.NodeLaunched{NodeID: "n", GPUCount: 8}, nil},
		{"count written with a zero fraction", sdk.TypeNodeLaunched, `{"node_id":"n","gpu_count":8.0}`, sdk.NodeLaunched{NodeID: "n", GPUCount: 8}, nil},
		{"count with a fraction", sdk.TypeNodeLaunched, `{"node_id":"n","gpu_count":8.5}`, sdk.NodeLaunched{NodeID: "n"}, []string{"gpu_count"}},
		{"count in words", sdk.TypeNodeLaunched, `{"node_id":"n","gpu_count":"eight"}`, sdk.NodeLaunched{NodeID: "n"}, []string{"gpu_count"}},
		{"int64 as a string", sdk.TypeRateLimitThresholdReached, `{"usage":"800","limit":"1e3","threshold_percent":"80"}`, sdk.RateLimitThresholdReached{Usage: 800, Limit: 1000, ThresholdPercent: 80}, nil},
		{"int64 overflow", sdk.TypeRateLimitThresholdReached, `{"usage":1e30,"limit":1}`, sdk.RateLimitThresholdReached{Limit: 1}, []string{"usage"}},

		// Booleans.
		{"bool as a string", sdk.TypeNodeLaunched, `{"node_id":"n","spot":"true"}`, sdk.NodeLaunched{NodeID: "n", Spot: true}, nil},
		{"bool as a capitalised string", sdk.TypeNodeLaunched, `{"node_id":"n","spot":"False"}`, sdk.NodeLaunched{NodeID: "n"}, nil},
		{"bool as 1", sdk.TypeNodeLaunched, `{"node_id":"n","spot":1}`, sdk.NodeLaunched{NodeID: "n", Spot: true}, nil},
		{"bool as \"0\"", sdk.TypeNodeLaunched, `{"node_id":"n","spot":"0"}`, sdk.NodeLaunched{NodeID: "n"}, nil},
		{"bool as maybe", sdk.TypeNodeLaunched, `{"node_id":"n","spot":"maybe"}`, sdk.NodeLaunched{NodeID: "n"}, []string{"spot"}},
		{"bool as 2", sdk.TypeNodeLaunched, `{"node_id":"n","spot":2}`, sdk.NodeLaunched{NodeID: "n"}, []string{"spot"}},

		// Strings and lists.
		{"id as a number", sdk.TypePaymentSucceeded, `{"payment_id":12345,"currency":"USD","amount":1}`, sdk.PaymentSucceeded{PaymentID: "12345", Currency: "USD", Amount: 1}, nil},
		{"string as an object", sdk.TypePaymentSucceeded, `{"payment_id":{"id":1},"currency":"USD"}`, sdk.PaymentSucceeded{Currency: "USD"}, []string{"payment_id"}},
		{"one issue as a string", sdk.TypeNodeHealthDegraded, `{"node_id":"n","issues":"nvlink down"}`, sdk.NodeHealthDegraded{NodeID: "n", Issues: []string{"nvlink down"}}, nil},
		{"issues with a number", sdk.TypeNodeHealthDegraded, `{"node_id":"n","issues":["a",3]}`, sdk.NodeHealthDegraded{NodeID: "n", Issues: []string{"a", "3"}}, nil},
		{"issues with an object", sdk.TypeNodeHealthDegraded, `{"node_id":"n","health_score":"0.5","issues":["a",{"b":1}]}`, sdk.NodeHealthDegraded{NodeID: "n", HealthScore: 0.5}, []string{"issues"}},

		// The data as a whole, keys, and several mismatches at once.
		{"keys match case-insensitively", sdk.TypeNodeTerminated, `{"Node_ID":"n","TIME_REMAINING":"2m"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 120}, nil},
		{"the last duplicate wins", sdk.TypeNodeTerminated, `{"node_id":"n","time_remaining":"soon","time_remaining":"2m"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 120}, nil},
		{"unknown fields are ignored", sdk.TypeNodeTerminated, `{"node_id":"n","zone":{"a":[1]},"time_remaining":"2m"}`, sdk.NodeTerminated{NodeID: "n", TimeRemaining: 120}, nil},
		{"several mismatches in struct order", sdk.TypeNodeLaunched, `{"spot":"perhaps","node_id":"n","gpu_count":"many","price_per_hour":"cheap"}`, sdk.NodeLaunched{NodeID: "n"}, []string{"gpu_count", "spot", "price_per_hour"}},
		{"data is an array", sdk.TypePaymentFailed, `[1,2]`, sdk.PaymentFailed{}, []string{"data"}},
		{"data is a string", sdk.TypePaymentFailed, `"card declined"`, sdk.PaymentFailed{}, []string{"data"}},
		{"data is null", sdk.TypePaymentFailed, `null`, sdk.PaymentFailed{}, []string{"data"}},
		{"data is missing", sdk.TypePaymentFailed, ``, sdk.PaymentFailed{}, []string{"data"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, bad, err := sdk.DecodeDataLenient(tc.eventType, json.RawMessage(tc.data))
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if !reflect.DeepEqual(p, tc.want) {
				t.Errorf("payload %#v, want %#v", p, tc.want)
			}
			var fields []string
			for _, m := range bad {
				fields = append(fields, m.Field)
				if m.Reason == "" {
					t.Errorf("mismatch of %s has no reason", m.Field)
				}
			}
			if !reflect.DeepEqual(fields, tc.bad) {
				t.Errorf("mismatched fields %q, want %q (%+v)", fields, tc.bad, bad)
			}
		})
	}
}

// TestDecodeDataLenientAgreesWithStrict: on data that fits its type, the lenient decoder
// returns exactly what the strict one does, for every seed type.
func TestDecodeDataLenientAgreesWithStrict(t *testing.T) {
	t.Parallel()
	for _, tc := range constructorCases() {
		e, err := tc.build()
		if err != nil {
			t.Fatal(err)
		}
		strict, err := sdk.DecodePayload(e)
		if err != nil {
			t.Fatal(err)
		}
		p, bad, err := sdk.DecodeDataLenient(e.Type, e.Data)
		if err != nil || len(bad) != 0 || !reflect.DeepEqual(p, strict) {
			t.Errorf("%s: %#v, %v, %v; strict %#v", e.Type, p, bad, err, strict)
		}
	}
}

// TestDecodeDataLenientReasonsQuoteNoValue: reasons describe the JSON kind and what is
// accepted, never the producer's value, which may be personal data.
func TestDecodeDataLenientReasonsQuoteNoValue(t *testing.T) {
	t.Parallel()
	_, bad, _ := sdk.DecodeDataLenient(sdk.TypeNodeLaunched,
		json.RawMessage(`{"node_id":"n","gpu_count":"secret-a","spot":"secret-b","price_per_hour":"secret-c","launch_duration":"secret-d","model":{"x":"secret-e"}}`))
	if len(bad) != 5 {
		t.Fatalf("mismatches %+v, want 5", bad)
	}
	for _, m := range bad {
		if strings.Contains(m.Reason, "secret") {
			t.Errorf("%s: reason %q quotes the value", m.Field, m.Reason)
		}
	}
}

// TestDecodeDataLenientCustomType: types without a payload struct are the caller's to read.
func TestDecodeDataLenientCustomType(t *testing.T) {
	t.Parallel()
	p, bad, err := sdk.DecodeDataLenient("order.shipped", json.RawMessage(`{"a":1}`))
	if !errors.Is(err, sdk.ErrUnknownType) || p != nil || bad != nil {
		t.Errorf("got %v, %v, %v; want ErrUnknownType", p, bad, err)
	}
}

// TestStrictnessAtPublishTimeStays: the SDK's own checks still refuse what the dispatcher
// now tolerates, so that Go producers learn of a mistake when they publish.
func TestStrictnessAtPublishTimeStays(t *testing.T) {
	t.Parallel()
	err := sdk.ValidateData(sdk.TypeNodeTerminated, json.RawMessage(`{"node_id":"n","time_remaining":"93s"}`))
	var ve *sdk.ValidationError
	if !errors.As(err, &ve) || ve.Field != "data.time_remaining" {
		t.Errorf("ValidateData: %v, want a ValidationError for data.time_remaining", err)
	}
	if _, err := sdk.New(sdk.TypePaymentFailed, "acme", json.RawMessage(`{"reason":"x","amount":"49.99"}`)); err == nil {
		t.Error("New accepted an amount written as a string")
	}
}

func BenchmarkDecodeDataLenient(b *testing.B) {
	data := json.RawMessage(`{"node_id":"n-1","provider":"aws","region":"us-east-1","gpu_type":"H100","gpu_count":8,"model":"llama-3-70b","spot":true,"price_per_hour":12.5,"launch_duration":93.5}`)
	b.Run("fits", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, bad, err := sdk.DecodeDataLenient(sdk.TypeNodeLaunched, data); err != nil || len(bad) != 0 {
				b.Fatal(bad, err)
			}
		}
	})
	loose := json.RawMessage(`{"node_id":"n-1","provider":"aws","region":"us-east-1","gpu_type":"H100","gpu_count":"8","model":"llama-3-70b","spot":"true","price_per_hour":"12.5","launch_duration":"PT1M33.5S"}`)
	b.Run("loose", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, bad, err := sdk.DecodeDataLenient(sdk.TypeNodeLaunched, loose); err != nil || len(bad) != 0 {
				b.Fatal(bad, err)
			}
		}
	})
}

// FuzzDecodeDataLenient: no input makes the lenient decoder panic or return a mismatch
// without a known field name and a reason.
func FuzzDecodeDataLenient(f *testing.F) {
	for _, s := range []string{`{"node_id":"n","time_remaining":"PT1,5M"}`, `{"gpu_count":"-0"}`, `{"issues":[[]]}`,
		`{"spot":" TRUE "}`, `{"launch_duration":"1.5.5s"}`, `{"launch_duration":"P1DT"}`, `{"x":1,"X":2}`, `[]`} {
		f.Add(s)
	}
	names := map[string]bool{"data": true, "node_id": true, "provider": true, "region": true, "gpu_type": true,
		"gpu_count": true, "model": true, "spot": true, "price_per_hour": true, "launch_duration": true}
	f.Fuzz(func(t *testing.T, data string) {
		if !json.Valid([]byte(data)) {
			return
		}
		p, bad, err := sdk.DecodeDataLenient(sdk.TypeNodeLaunched, json.RawMessage(data))
		if err != nil || p == nil {
			t.Fatalf("%v, %v", p, err)
		}
		for _, m := range bad {
			if !names[m.Field] || m.Reason == "" {
				t.Fatalf("mismatch %+v", m)
			}
		}
	})
}
