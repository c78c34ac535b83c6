package sdk_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// constructorCases builds one event of every known type with a realistic payload.
func constructorCases() []struct {
	name     string
	payload  sdk.Payload
	build    func() (*sdk.Event, error)
	severity sdk.Severity
} {
	tc := sdk.TenantCreated{Name: "Acme", Email: "ops@acme.test", BillingPlan: "pro"}
	ps := sdk.PaymentSucceeded{TenantName: "Acme", Amount: 49.99, Currency: "USD", PaymentID: "pay_123"}
	pf := sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 49.99}
	nl := sdk.NodeLaunched{NodeID: "n-1", Provider: "aws", Region: "us-east-1", GPUType: "H100", GPUCount: 8,
		Model: "llama-3-70b", Spot: true, PricePerHour: 12.5, LaunchDuration: sdk.SecondsOf(93500 * time.Millisecond)}
	nt := sdk.NodeTerminated{NodeID: "n-1", TimeRemaining: 120, Reason: "spot instance reclaimed"}
	nh := sdk.NodeHealthDegraded{NodeID: "n-1", HealthScore: 0.42, Issues: []string{"gpu 3 ecc errors", "nvlink down"}}
	ca := sdk.CostAnomalyDetected{CurrentCost: 900, AverageCost: 300, Threshold: 1.5}
	rl := sdk.RateLimitThresholdReached{Usage: 800, Limit: 1000, ThresholdPercent: 80}
	return []struct {
		name     string
		payload  sdk.Payload
		build    func() (*sdk.Event, error)
		severity sdk.Severity
	}{
		{sdk.TypeTenantCreated, tc, func() (*sdk.Event, error) { return sdk.NewTenantCreated("acme", tc) }, sdk.SeverityInfo},
		{sdk.TypePaymentSucceeded, ps, func() (*sdk.Event, error) { return sdk.NewPaymentSucceeded("acme", ps) }, sdk.SeverityInfo},
		{sdk.TypePaymentFailed, pf, func() (*sdk.Event, error) { return sdk.NewPaymentFailed("acme", pf) }, sdk.SeverityWarning},
		{sdk.TypeNodeLaunched, nl, func() (*sdk.Event, error) { return sdk.NewNodeLaunched("acme", nl) }, sdk.SeverityInfo},
		{sdk.TypeNodeTerminated, nt, func() (*sdk.Event, error) { return sdk.NewNodeTerminated("acme", nt) }, sdk.SeverityCritical},
		{sdk.TypeNodeHealthDegraded, nh, func() (*sdk.Event, error) { return sdk.NewNodeHealthDegraded("acme", nh) }, sdk.SeverityWarning},
		{sdk.TypeCostAnomalyDetected, ca, func() (*sdk.Event, error) { return sdk.NewCostAnomalyDetected("acme", ca) }, sdk.SeverityWarning},
		{sdk.TypeRateLimitThresholdReached, rl, func() (*sdk.Event, error) { return sdk.NewRateLimitThresholdReached("acme", rl) }, sdk.SeverityWarning},
	}
}

func TestConstructorsBuildValidEventsThatRoundTrip(t *testing.T) {
	t.Parallel()
	cases := constructorCases()
	if len(cases) != len(sdk.KnownTypes()) {
		t.Fatalf("%d constructor cases for %d known types", len(cases), len(sdk.KnownTypes()))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := time.Now().UTC().Add(-time.Second)
			e, err := tc.build()
			if err != nil {
				t.Fatalf("build: %v", err)
			}
			if err := e.Validate(); err != nil {
				t.Fatalf("built event is invalid: %v", err)
			}
			if e.Type != tc.name || e.SpecVersion != "1.0" || e.TenantID != "acme" || e.Source != sdk.DefaultSource() ||
				e.DataContentType != "application/json" || e.Severity != tc.severity || len(e.ID) != 26 {
				t.Errorf("envelope = %+v", e)
			}
			if e.Time.Location() != time.UTC || e.Time.Before(before) || e.Time.After(time.Now().Add(time.Second)) {
				t.Errorf("time = %v, want now in UTC", e.Time)
			}
			if sdk.DefaultSeverity(tc.name) != tc.severity {
				t.Errorf("DefaultSeverity(%s) = %s", tc.name, sdk.DefaultSeverity(tc.name))
			}

			// Through the wire and back.
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := sdk.Decode(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !got.Time.Equal(e.Time) || got.ID != e.ID || got.Severity != e.Severity {
				t.Errorf("decoded envelope %+v, want %+v", got, e)
			}
			p, err := sdk.DecodePayload(got)
			if err != nil {
				t.Fatalf("decode payload: %v", err)
			}
			if !reflect.DeepEqual(p, tc.payload) {
				t.Errorf("payload round trip: got %#v, want %#v", p, tc.payload)
			}
			if err := sdk.ValidateData(got.Type, got.Data); err != nil {
				t.Errorf("ValidateData: %v", err)
			}
		})
	}
}

func TestPayloadJSONIsSnakeCase(t *testing.T) {
	t.Parallel()
	e, err := sdk.NewNodeLaunched("", sdk.NodeLaunched{NodeID: "n-1", GPUType: "A100", GPUCount: 2, PricePerHour: 3.5,
		LaunchDuration: sdk.SecondsOf(90 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(e.Data, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"node_id", "provider", "region", "gpu_type", "gpu_count", "model", "spot", "price_per_hour", "launch_duration"} {
		if _, ok := m[k]; !ok {
			t.Errorf("data has no %q: %s", k, e.Data)
		}
	}
	if m["launch_duration"] != 90.0 {
		t.Errorf("launch_duration = %v, want the number 90", m["launch_duration"])
	}
	if e.Tenant() != "_" || e.Subject("herald") != "herald.events._.node.launched" {
		t.Errorf("subject = %s", e.Subject("herald"))
	}

	h, err := sdk.NewNodeHealthDegraded("acme", sdk.NodeHealthDegraded{NodeID: "n-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(h.Data), `"issues":[]`) {
		t.Errorf("nil issues encode as %s, want []", h.Data)
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	e, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{Reason: "expired card"},
		sdk.WithSource("billing"), sdk.WithID("pay_123-failed"), sdk.WithSeverity(sdk.SeverityCritical), sdk.WithTime(at))
	if err != nil {
		t.Fatal(err)
	}
	if e.Source != "billing" || e.ID != "pay_123-failed" || e.Severity != sdk.SeverityCritical ||
		!e.Time.Equal(at) || e.Time.Location() != time.UTC {
		t.Errorf("options not applied: %+v", e)
	}
}

func TestNewCustomType(t *testing.T) {
	t.Parallel()
	e, err := sdk.New("deploy.finished", "acme", map[string]any{"service": "api", "ok": true})
	if err != nil {
		t.Fatal(err)
	}
	if e.Severity != sdk.SeverityInfo || string(e.Data) != `{"ok":true,"service":"api"}` {
		t.Errorf("custom event = %+v data %s", e, e.Data)
	}
	if _, err := sdk.DecodePayload(e); !errors.Is(err, sdk.ErrUnknownType) {
		t.Errorf("DecodePayload(custom) = %v, want ErrUnknownType", err)
	}
	var got struct{ Service string }
	if err := e.UnmarshalData(&got); err != nil || got.Service != "api" {
		t.Errorf("UnmarshalData = %+v, %v", got, err)
	}

	raw, err := sdk.New("deploy.started", "", json.RawMessage(`{"service": "api"}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(raw.Data) != `{"service": "api"}` {
		t.Errorf("raw data re-encoded: %s", raw.Data)
	}
	none, err := sdk.New("heartbeat", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if none.Data != nil || none.DataContentType != "" {
		t.Errorf("event without data = %+v", none)
	}
}

// fieldOf returns the field a *ValidationError names, failing the test for any other error.
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var ve *sdk.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	if !errors.Is(err, sdk.ErrInvalidEvent) {
		t.Errorf("error %v does not match ErrInvalidEvent", err)
	}
	return ve.Field
}

func TestNewValidationNamesTheField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func() (*sdk.Event, error)
		field string
	}{
		{"type with space", func() (*sdk.Event, error) { return sdk.New("bad type", "acme", nil) }, "type"},
		{"empty token", func() (*sdk.Event, error) { return sdk.New("a..b", "acme", nil) }, "type"},
		{"wildcard", func() (*sdk.Event, error) { return sdk.New("x.*", "acme", nil) }, "type"},
		{"full wildcard", func() (*sdk.Event, error) { return sdk.New("x.>", "acme", nil) }, "type"},
		{"empty type", func() (*sdk.Event, error) { return sdk.New("", "acme", nil) }, "type"},
		{"empty id", func() (*sdk.Event, error) { return sdk.New("x.y", "acme", nil, sdk.WithID("")) }, "id"},
		{"empty source", func() (*sdk.Event, error) { return sdk.New("x.y", "acme", nil, sdk.WithSource("")) }, "source"},
		{"tenant with dot", func() (*sdk.Event, error) { return sdk.New("x.y", "ac.me", nil) }, "tenantid"},
		{"unknown severity", func() (*sdk.Event, error) { return sdk.New("x.y", "acme", nil, sdk.WithSeverity("loud")) }, "severity"},
		{"invalid raw json", func() (*sdk.Event, error) { return sdk.New("x.y", "acme", json.RawMessage(`{`)) }, "data"},
		{"unencodable data", func() (*sdk.Event, error) { return sdk.New("x.y", "acme", make(chan int)) }, "data"},
		{"payload of another type", func() (*sdk.Event, error) {
			return sdk.New(sdk.TypePaymentSucceeded, "acme", sdk.PaymentFailed{Reason: "x"})
		}, "type"},
		{"missing tenant name", func() (*sdk.Event, error) {
			return sdk.NewTenantCreated("acme", sdk.TenantCreated{Email: "a@b.c"})
		}, "data.name"},
		{"negative amount", func() (*sdk.Event, error) {
			return sdk.NewPaymentFailed("acme", sdk.PaymentFailed{Reason: "x", Amount: -1})
		}, "data.amount"},
		{"missing node id", func() (*sdk.Event, error) { return sdk.NewNodeTerminated("acme", sdk.NodeTerminated{}) }, "data.node_id"},
		{"known type, mistyped field", func() (*sdk.Event, error) {
			return sdk.New(sdk.TypeNodeLaunched, "acme", map[string]any{"node_id": "n-1", "gpu_count": "eight"})
		}, "data.gpu_count"},
		{"known type, no data", func() (*sdk.Event, error) { return sdk.New(sdk.TypeNodeLaunched, "acme", nil) }, "data"},
		{"known type, map missing field", func() (*sdk.Event, error) {
			return sdk.New(sdk.TypePaymentSucceeded, "acme", map[string]any{"currency": "USD"})
		}, "data.payment_id"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, err := tc.build()
			if err == nil {
				t.Fatalf("no error; event %+v", e)
			}
			if got := fieldOf(t, err); got != tc.field {
				t.Errorf("field = %q, want %q (error %v)", got, tc.field, err)
			}
		})
	}
}

func TestNewKnownTypeFromMapAllowsExtraFields(t *testing.T) {
	t.Parallel()
	_, err := sdk.New(sdk.TypePaymentFailed, "acme", map[string]any{"reason": "declined", "amount": 5, "retry_at": "tomorrow"})
	if err != nil {
		t.Fatalf("extra field refused: %v", err)
	}
}

func TestSeconds(t *testing.T) {
	t.Parallel()
	s := sdk.SecondsOf(90*time.Second + 500*time.Millisecond)
	if s != 90.5 || s.Duration() != 90500*time.Millisecond || s.String() != "1m30.5s" {
		t.Errorf("Seconds = %v (%s, %s)", float64(s), s.Duration(), s)
	}
}
