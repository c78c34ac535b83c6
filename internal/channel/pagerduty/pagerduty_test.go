package pagerduty_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/pagerduty"
	"github.com/heraldhq/herald/internal/channel/pagerduty/pagerdutytest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mustEvent returns e, panicking on a constructor's error: the tests build valid events.
func mustEvent(e *sdk.Event, err error) *sdk.Event {
	if err != nil {
		panic(err)
	}
	return e
}

// TestPagerDutyConformance runs the suite every channel runs, with pagerdutytest's contract
// check: every request must be an event PagerDuty accepts.
func TestPagerDutyConformance(t *testing.T) {
	t.Parallel()
	const key = "u7Kq2ZpW9xLm4RtB8vNc3HdY6fJs1GaE"
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, pagerduty.Provider{}, logger)
			return ch, pagerduty.Destination("oncall", baseURL, key)
		},
		Secrets: []string{key},
		Check: func(r *http.Request, body []byte) error {
			_, err := pagerdutytest.CheckRequest(r, body)
			return err
		},
		Accept: pagerdutytest.WriteAccepted,
	})
}

// TestSamplesDeliveredToFakePagerDuty sends every sample event and expects each to be
// accepted: the triggers open alerts, the resolves close the ones they name.
func TestSamplesDeliveredToFakePagerDuty(t *testing.T) {
	t.Parallel()
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithoutRateLimit())
	key := srv.NewRoutingKey()
	ch := pagerduty.New(channeltest.NewClient(t), nil)
	d := pagerduty.Destination("oncall", srv.URL, key)
	for _, ev := range render.Samples() {
		if o := ch.Send(t.Context(), channeltest.Notify(d, ev)); o.Kind != channel.Delivered || o.StatusCode != http.StatusAccepted {
			t.Errorf("%s: outcome = %+v, want delivered 202", ev.Type, o)
		}
	}
	for _, r := range srv.Rejected() {
		t.Errorf("fake PagerDuty rejected a request: %v", &r.Err)
	}
	events := srv.Events()
	if len(events) != len(render.Samples()) {
		t.Fatalf("fake accepted %d events, want %d", len(events), len(render.Samples()))
	}
	for _, a := range events {
		ev := a.Event
		if ev.EventAction == "trigger" && (ev.Payload.Summary == "" || ev.Payload.Source != "billing" || ev.Client != "Herald") {
			t.Errorf("trigger %s: payload %+v", ev.DedupKey, ev.Payload)
		}
	}
	// The samples are in the order of render.Samples: node.launched comes before the node's
	// reclaim and degraded health, payment.succeeded before payment.failed; so the node and
	// payment alerts are open at the end, and each took its triggers.
	node, ok := srv.Alert(key, "herald/acme/node/node-7f3a")
	if !ok || node.Status != pagerdutytest.Triggered || node.Triggers != 2 {
		t.Errorf("node alert = %+v, want triggered twice", node)
	}
	if a, ok := srv.Alert(key, "herald/acme/payment"); !ok || a.Status != pagerdutytest.Triggered || a.Severity != "warning" {
		t.Errorf("payment alert = %+v, want triggered with severity warning", a)
	}
	if got := len(srv.Alerts(key)); got != 6 {
		t.Errorf("%d alerts, want 6 (node, payment, cost, ratelimit, tenant.created, order.shipped): %+v", got, srv.Alerts(key))
	}
}

// TestPagerDutyRecoveryResolves walks through the documented mapping: problems open an
// alert, more of them add to it, the recovery event resolves it, and the next problem opens
// a new one.
func TestPagerDutyRecoveryResolves(t *testing.T) {
	t.Parallel()
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithoutRateLimit())
	key := srv.NewRoutingKey()
	ch := pagerduty.New(channeltest.NewClient(t), nil)
	d := pagerduty.Destination("oncall", srv.URL, key)
	send := func(ev *sdk.Event) {
		t.Helper()
		if o := ch.Send(t.Context(), channeltest.Notify(d, ev)); o.Kind != channel.Delivered {
			t.Fatalf("%s: %+v", ev.Type, o)
		}
	}
	alert := func(dedup string) pagerdutytest.Alert {
		t.Helper()
		a, ok := srv.Alert(key, dedup)
		if !ok {
			t.Fatalf("no alert %s; alerts: %+v", dedup, srv.Alerts(key))
		}
		return a
	}

	send(mustEvent(sdk.NewNodeTerminated("acme", sdk.NodeTerminated{NodeID: "n-1", TimeRemaining: sdk.SecondsOf(time.Minute), Reason: "spot"})))
	send(mustEvent(sdk.NewNodeHealthDegraded("acme", sdk.NodeHealthDegraded{NodeID: "n-1", HealthScore: 0.3, Issues: []string{"ECC"}})))
	send(mustEvent(sdk.NewNodeHealthDegraded("acme", sdk.NodeHealthDegraded{NodeID: "n-2", HealthScore: 0.5})))
	send(mustEvent(sdk.NewNodeHealthDegraded("globex", sdk.NodeHealthDegraded{NodeID: "n-1", HealthScore: 0.5})))
	if a := alert("herald/acme/node/n-1"); a.Status != pagerdutytest.Triggered || a.Triggers != 2 || a.Severity != "warning" {
		t.Fatalf("n-1 = %+v, want triggered twice, last by the degraded health", a)
	}
	send(mustEvent(sdk.NewNodeLaunched("acme", sdk.NodeLaunched{NodeID: "n-1", Provider: "aws", Region: "us-east-1", GPUType: "H100", GPUCount: 8})))
	if a := alert("herald/acme/node/n-1"); a.Status != pagerdutytest.Resolved {
		t.Errorf("n-1 after its launch = %+v, want resolved", a)
	}
	if a := alert("herald/acme/node/n-2"); a.Status != pagerdutytest.Triggered {
		t.Errorf("n-2 = %+v: another node's launch must not resolve it", a)
	}
	if a := alert("herald/globex/node/n-1"); a.Status != pagerdutytest.Triggered {
		t.Errorf("globex's n-1 = %+v: another tenant's launch must not resolve it", a)
	}
	send(mustEvent(sdk.NewNodeTerminated("acme", sdk.NodeTerminated{NodeID: "n-1", TimeRemaining: sdk.SecondsOf(time.Minute)})))
	if a := alert("herald/acme/node/n-1"); a.Status != pagerdutytest.Triggered || a.Triggers != 1 || a.Severity != "critical" {
		t.Errorf("n-1 after a new reclaim = %+v, want a new critical alert", a)
	}

	send(mustEvent(sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 10})))
	send(mustEvent(sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined again", Amount: 10})))
	if a := alert("herald/acme/payment"); a.Status != pagerdutytest.Triggered || a.Triggers != 2 {
		t.Fatalf("payment = %+v, want triggered twice", a)
	}
	send(mustEvent(sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 10, Currency: "USD", PaymentID: "p1"})))
	if a := alert("herald/acme/payment"); a.Status != pagerdutytest.Resolved {
		t.Errorf("payment after a success = %+v, want resolved", a)
	}

	// A recovery with nothing open is accepted and changes nothing.
	send(mustEvent(sdk.NewPaymentSucceeded("initech", sdk.PaymentSucceeded{TenantName: "Initech", Amount: 1, Currency: "USD", PaymentID: "p2"})))
	if _, ok := srv.Alert(key, "herald/initech/payment"); ok {
		t.Error("a resolve without an open alert created one")
	}
	for _, r := range srv.Rejected() {
		t.Errorf("fake PagerDuty rejected a request: %v", &r.Err)
	}
}

// TestPagerDutyDedupKeyStableAcrossAttempts sends the same delivery three times, as retries
// do, and expects one alert with three triggers.
func TestPagerDutyDedupKeyStableAcrossAttempts(t *testing.T) {
	t.Parallel()
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithoutRateLimit())
	key := srv.NewRoutingKey()
	ch := pagerduty.New(channeltest.NewClient(t), nil)
	d := pagerduty.Destination("oncall", srv.URL, key)
	ev := channeltest.SampleOf(t, "tenant.created")
	for attempt := 1; attempt <= 3; attempt++ {
		n := channeltest.Notify(d, ev)
		n.Attempt = attempt
		if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
			t.Fatalf("attempt %d: %+v", attempt, o)
		}
	}
	alerts := srv.Alerts(key)
	if len(alerts) != 1 || alerts[0].Triggers != 3 || alerts[0].DedupKey != "herald/acme/event/"+ev.ID {
		t.Fatalf("alerts = %+v, want one, triggered three times, keyed by the event id", alerts)
	}
}

// TestPagerDutyErrorAnswers checks each documented answer's outcome; the reason quotes
// PagerDuty's message and errors.
// https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
func TestPagerDutyErrorAnswers(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status     int
		body       string
		retryAfter string
		want       channel.Kind
		quote      string
		pause      time.Duration
	}{
		{400, `{"status":"invalid event","message":"Event object is invalid","errors":["'summary' is too long (maiximum is 1024 characters)"]}`, "", channel.Permanent, "PagerDuty: Event object is invalid: 'summary' is too long", 0},
		{400, `{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}`, "", channel.Permanent, "Invalid routing key", 0},
		{400, `{"status":"Unrecognized object","message":"Event object format is unrecognized","errors":["JSON parse error"]}`, "", channel.Permanent, "format is unrecognized: JSON parse error", 0},
		{429, `{"status":"throttle event","message":"Requests for this service are arriving too quickly.  Please retry later."}`, "", channel.Retry, "arriving too quickly", 5 * time.Second},
		{429, ``, "9", channel.Retry, "429", 9 * time.Second},
		{500, `{"status":"error","message":"Internal Server Error"}`, "", channel.Retry, "Internal Server Error", 0},
		{502, `<html>bad gateway</html>`, "", channel.Retry, "bad gateway", 0},
		{503, ``, "30", channel.Retry, "503", 0},
		{404, `{"status":"not found","message":"Not Found"}`, "", channel.Permanent, "Not Found", 0},
	}
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithoutRateLimit())
	key := srv.NewRoutingKey()
	ch := pagerduty.New(channeltest.NewClient(t), nil)
	d := pagerduty.Destination("oncall", srv.URL, key)
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status, " ", c.quote), func(t *testing.T) {
			srv.Inject(pagerdutytest.Failure{Status: c.status, Body: c.body, RetryAfter: c.retryAfter})
			o := ch.Send(t.Context(), channeltest.Notify(d, channeltest.SampleOf(t, "payment.failed")))
			if o.Kind != c.want || o.StatusCode != c.status {
				t.Fatalf("outcome = %+v, want %s with status %d", o, c.want, c.status)
			}
			if !strings.Contains(o.Reason, fmt.Sprint(c.status)) || !strings.Contains(o.Reason, c.quote) {
				t.Errorf("reason %q does not name the status and quote %q", o.Reason, c.quote)
			}
			if o.Pause != c.pause {
				t.Errorf("Pause = %s, want %s", o.Pause, c.pause)
			}
			if c.retryAfter != "" && o.RetryAfter.String() != c.retryAfter+"s" {
				t.Errorf("RetryAfter = %s, want %ss", o.RetryAfter, c.retryAfter)
			}
		})
	}
}

// TestPagerDutyRefusedByFake checks the fake's own refusals of well-formed sends: an unknown
// routing key and the rate limit.
func TestPagerDutyRefusedByFake(t *testing.T) {
	t.Parallel()
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithRateLimit(time.Hour, 1), pagerdutytest.WithRetryAfter())
	key := srv.NewRoutingKey()
	ch := pagerduty.New(channeltest.NewClient(t), nil)
	unknown := pagerduty.Destination("gone", srv.URL, strings.Repeat("Z", 32))
	if o := ch.Send(t.Context(), channeltest.Notify(unknown, channeltest.SampleOf(t, "payment.failed"))); o.Kind != channel.Permanent || !strings.Contains(o.Reason, "Invalid routing key") {
		t.Errorf("unknown key: %+v, want permanent quoting Invalid routing key", o)
	}
	d := pagerduty.Destination("oncall", srv.URL, key)
	if o := ch.Send(t.Context(), channeltest.Notify(d, channeltest.SampleOf(t, "payment.failed"))); o.Kind != channel.Delivered {
		t.Fatalf("first send: %+v", o)
	}
	o := ch.Send(t.Context(), channeltest.Notify(d, channeltest.SampleOf(t, "cost.anomaly_detected")))
	if o.Kind != channel.Retry || o.StatusCode != 429 || o.RetryAfter != time.Hour || o.Pause != time.Hour {
		t.Errorf("second send: %+v, want retry 429 after 1h, paused 1h", o)
	}
}

func TestPagerDutyValidate(t *testing.T) {
	t.Parallel()
	const key = "abcdefghijABCDEFGHIJ0123456789xy"
	ch := pagerduty.New(channeltest.NewClient(t), nil)
	cases := []struct {
		name, key, url, field string
	}{
		{"valid", key, "", ""},
		{"valid with base path", key, "http://127.0.0.1:9/pd", ""},
		{"no key", "", "", "routing_key"},
		{"short key", key[:31], "", "routing_key"},
		{"long key", key + "z", "", "routing_key"},
		{"key with a dash", key[:31] + "-", "", "routing_key"},
		{"ftp", key, "ftp://events.pagerduty.com", "api_url"},
		{"credentials", key, "https://u:p@events.pagerduty.com", "api_url"},
		{"fragment", key, "https://events.pagerduty.com#x", "api_url"},
		{"no host", key, "https:///v2", "api_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			channeltest.CheckValidate(t, ch, pagerduty.Destination("d", c.url, c.key), c.field, c.key)
		})
	}
	if err := ch.Validate(channel.Destination{Channel: "sms", Config: &pagerduty.Config{RoutingKey: key}}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Errorf("destination of another channel: %v", err)
	}
}

// TestPagerDutyConfigFromEnv reads the operator's destination from its variables, and a
// tenant's from its JSON.
func TestPagerDutyConfigFromEnv(t *testing.T) {
	t.Parallel()
	spec := pagerduty.Provider{}.Spec()
	env := map[string]string{
		"NOTIFICATIONS_PAGERDUTY_ENABLED":     "true",
		"NOTIFICATIONS_PAGERDUTY_ROUTING_KEY": "abcdefghijABCDEFGHIJ0123456789xy",
	}
	cfg, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.(*pagerduty.Config); c.APIURL != pagerduty.DefaultAPIURL {
		t.Errorf("api_url = %q, want the default", c.APIURL)
	}
	if got := channel.Masked(spec, cfg)["routing_key"]; got != "****89xy" {
		t.Errorf("masked routing_key = %v", got)
	}
	env["NOTIFICATIONS_PAGERDUTY_ROUTING_KEY"] = "tooshort"
	var ve *channel.VarError
	if _, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] }); !errors.As(err, &ve) || ve.Var != "NOTIFICATIONS_PAGERDUTY_ROUTING_KEY" {
		t.Errorf("short key: %v, want an error naming NOTIFICATIONS_PAGERDUTY_ROUTING_KEY", err)
	}
	tenant, err := channel.DecodeConfig(spec, json.RawMessage(`{"routing_key":"abcdefghijABCDEFGHIJ0123456789xy"}`))
	if err != nil || tenant.(*pagerduty.Config).RoutingKey == "" {
		t.Errorf("tenant config: %+v, %v", tenant, err)
	}
	if _, err := channel.DecodeConfig(spec, json.RawMessage(`{"routing_key":"abcdefghijABCDEFGHIJ0123456789xy","service_key":"x"}`)); err == nil {
		t.Error("an unknown field was accepted")
	}
}

func TestPagerDutyPace(t *testing.T) {
	t.Parallel()
	const key = "abcdefghijABCDEFGHIJ0123456789xy"
	ch := pagerduty.New(nil, nil)
	p := ch.Pace(pagerduty.Destination("a", "", key))
	if p.Every != 500*time.Millisecond || p.Burst != 10 || !strings.HasPrefix(p.Key, "pagerduty:") || len(p.Key) != len("pagerduty:")+16 {
		t.Fatalf("Pace = %+v, want pagerduty:<16 hex>, 500ms, burst 10", p)
	}
	if strings.Contains(p.Key, key) {
		t.Fatal("pace key holds the routing key")
	}
	if ch.Pace(pagerduty.Destination("b", "http://x", key)).Key != p.Key {
		t.Error("two destinations of one routing key have different pace keys")
	}
	if ch.Pace(pagerduty.Destination("c", "", strings.Repeat("a", 32))).Key == p.Key {
		t.Error("two routing keys share a pace key")
	}
	if got := pagerduty.New(nil, nil, pagerduty.WithPace(time.Second, 2)).Pace(pagerduty.Destination("a", "", key)); got.Every != time.Second || got.Burst != 2 {
		t.Errorf("WithPace: %+v", got)
	}
}

// TestPagerDutyPreviewIsWhatSendPosts compares Preview's body with the body the fake
// received: equal but for the routing key, which Preview masks.
func TestPagerDutyPreviewIsWhatSendPosts(t *testing.T) {
	t.Parallel()
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithoutRateLimit())
	key := srv.NewRoutingKey()
	d := pagerduty.Destination("oncall", srv.URL, key)
	channeltest.CheckPreviewIsWhatSendPosts(t, pagerduty.New(channeltest.NewClient(t), nil), d, "application/json",
		func() []byte {
			events := srv.Events()
			return []byte(strings.Replace(string(events[len(events)-1].Body), key, channel.MaskSecret(key), 1))
		},
		func(n channel.Notification, pv channel.Preview) {
			if strings.Contains(string(pv.Body), key) || pv.Text == "" {
				t.Fatalf("%s: preview shows the routing key, or has no text (%q)", n.Event.Type, pv.Text)
			}
		})
}

// TestProfileLoads checks that the embedded templates load, each test-rendered with every
// sample, as they are at start.
func TestProfileLoads(t *testing.T) {
	t.Parallel()
	p := pagerduty.Provider{}.Render()
	if p == nil || p.Channel != pagerduty.Name {
		t.Fatalf("Render() = %+v", p)
	}
	set := render.MustLoad(*p)
	if got := set.Types(); len(got) != len(render.Samples())-1 {
		t.Errorf("templates for %v, want one per seed type", got)
	}
}
