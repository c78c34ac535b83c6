package pagerdutytest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
	"github.com/heraldhq/herald/internal/channel/pagerduty/pagerdutytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// post sends one request and returns the status and PagerDuty's decoded answer.
func post(t *testing.T, c *http.Client, method, rawURL, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, b := fakeprovider.Do(t, c, req)
	return resp.StatusCode, fakeprovider.DecodeJSON(t, b)
}

// trigger is a valid trigger event of key with the given payload fields replaced.
func trigger(key string, edit func(ev map[string]any, p map[string]any)) string {
	p := map[string]any{"summary": "Disk full on db-1", "source": "db-1", "severity": "critical",
		"timestamp": "2026-11-28T09:30:00Z", "custom_details": map[string]any{"free": "1%"}}
	ev := map[string]any{"routing_key": key, "event_action": "trigger", "dedup_key": "db-1/disk", "payload": p}
	if edit != nil {
		edit(ev, p)
	}
	b, _ := json.Marshal(ev)
	return string(b)
}

// TestFakeRejectsWhatPagerDutyRefuses proves that the fake can fail a test: every event
// PagerDuty would refuse is answered 400 with PagerDuty's error body, and recorded.
func TestFakeRejectsWhatPagerDutyRefuses(t *testing.T) {
	t.Parallel()
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithoutRateLimit())
	c := &http.Client{}
	t.Cleanup(c.CloseIdleConnections)
	key := srv.NewRoutingKey()
	url := srv.URL + pagerdutytest.EnqueuePath
	cases := []struct {
		name, ctype, body string
		status            int
		problem           string
	}{
		{"not JSON", "application/json", `{"routing_key":`, 400, "JSON parse error"},
		{"form encoded", "application/x-www-form-urlencoded", trigger(key, nil), 400, "JSON parse error"},
		{"short routing key", "application/json", trigger(key[:20], nil), 400, "Length of 'routing_key' is incorrect (should be 32 characters)"},
		{"routing key with a dash", "application/json", trigger(key[:31]+"-", nil), 400, "'routing_key' cannot contain non-alphanumeric characters."},
		{"unknown routing key", "application/json", trigger(strings.Repeat("Q", 32), nil), 400, "Invalid routing key"},
		{"no routing key", "application/json", trigger("", nil), 400, "'routing_key' is missing or blank"},
		{"unknown action", "application/json", trigger(key, func(ev, _ map[string]any) { ev["event_action"] = "open" }), 400, "'event_action' is invalid"},
		{"resolve without key", "application/json", trigger(key, func(ev, _ map[string]any) { ev["event_action"] = "resolve"; delete(ev, "dedup_key") }), 400, "'dedup_key' is missing or blank"},
		{"long dedup key", "application/json", trigger(key, func(ev, _ map[string]any) { ev["dedup_key"] = strings.Repeat("k", 256) }), 400, "'dedup_key' is too long"},
		{"no payload", "application/json", trigger(key, func(ev, _ map[string]any) { delete(ev, "payload") }), 400, "'payload' is missing or blank"},
		{"no summary", "application/json", trigger(key, func(_, p map[string]any) { delete(p, "summary") }), 400, "'summary' is missing or blank"},
		{"long summary", "application/json", trigger(key, func(_, p map[string]any) { p["summary"] = strings.Repeat("s", 1025) }), 400, "'summary' is too long (maiximum is 1024 characters)"},
		{"emoji count twice", "application/json", trigger(key, func(_, p map[string]any) { p["summary"] = strings.Repeat("🔥", 513) }), 400, "'summary' is too long"},
		{"no source", "application/json", trigger(key, func(_, p map[string]any) { p["source"] = " " }), 400, "'source' is missing or blank"},
		{"bad severity", "application/json", trigger(key, func(_, p map[string]any) { p["severity"] = "fatal" }), 400, "'severity' is invalid"},
		{"bad timestamp", "application/json", trigger(key, func(_, p map[string]any) { p["timestamp"] = "yesterday" }), 400, "'timestamp' is not a valid ISO 8601"},
		{"details not an object", "application/json", trigger(key, func(_, p map[string]any) { p["custom_details"] = []int{1} }), 400, "'custom_details' must be an object"},
		{"bad client_url", "application/json", trigger(key, func(ev, _ map[string]any) { ev["client_url"] = "not a url" }), 400, "'client_url' is not a valid URL"},
		{"too large", "application/json", trigger(key, func(_, p map[string]any) {
			p["custom_details"] = map[string]string{"blob": strings.Repeat("x", 512*1000)}
		}), 400, "too large"},
	}
	for _, c2 := range cases {
		status, ans := post(t, c, http.MethodPost, url, c2.ctype, c2.body)
		errs, _ := ans["errors"].([]any)
		var all []string
		for _, e := range errs {
			all = append(all, e.(string))
		}
		if status != c2.status || ans["message"] == nil || !strings.Contains(strings.Join(all, "|"), c2.problem) {
			t.Errorf("%s: answered %d %v, want %d with the problem %q", c2.name, status, ans, c2.status, c2.problem)
		}
	}
	if got := len(srv.Rejected()); got != len(cases) {
		t.Errorf("fake recorded %d rejections, want %d", got, len(cases))
	}
	if len(srv.Events()) != 0 {
		t.Errorf("fake accepted %d events, want none", len(srv.Events()))
	}
	if status, _ := post(t, c, http.MethodPost, srv.URL+"/v1/enqueue", "application/json", trigger(key, nil)); status != http.StatusNotFound {
		t.Errorf("another path answered %d, want 404", status)
	}
	if status, _ := post(t, c, http.MethodPut, url, "application/json", trigger(key, nil)); status != http.StatusMethodNotAllowed {
		t.Errorf("PUT answered %d, want 405", status)
	}
}

// TestFakeTracksAlerts checks the alert lifecycle the fake keeps, as PagerDuty's.
func TestFakeTracksAlerts(t *testing.T) {
	t.Parallel()
	srv := pagerdutytest.NewServer(t, pagerdutytest.WithoutRateLimit())
	c := &http.Client{}
	t.Cleanup(c.CloseIdleConnections)
	key := srv.NewRoutingKey()
	url := srv.URL + pagerdutytest.EnqueuePath
	send := func(body string) {
		t.Helper()
		status, ans := post(t, c, http.MethodPost, url, "application/json", body)
		if status != http.StatusAccepted || ans["status"] != "success" || ans["message"] != "Event processed" || ans["dedup_key"] == "" {
			t.Fatalf("answered %d %v, want 202 success", status, ans)
		}
	}
	resolve := `{"routing_key":"` + key + `","event_action":"resolve","dedup_key":"db-1/disk"}`
	send(resolve) // nothing open: accepted, no alert
	if _, ok := srv.Alert(key, "db-1/disk"); ok {
		t.Fatal("a resolve opened an alert")
	}
	send(trigger(key, nil))
	send(trigger(key, func(_, p map[string]any) { p["severity"] = "warning" }))
	if a, _ := srv.Alert(key, "db-1/disk"); a.Status != pagerdutytest.Triggered || a.Triggers != 2 || a.Severity != "warning" {
		t.Fatalf("alert = %+v, want triggered twice, severity warning", a)
	}
	send(`{"routing_key":"` + key + `","event_action":"acknowledge","dedup_key":"db-1/disk"}`)
	if a, _ := srv.Alert(key, "db-1/disk"); a.Status != pagerdutytest.Acknowledged {
		t.Fatalf("alert = %+v, want acknowledged", a)
	}
	send(resolve)
	if a, _ := srv.Alert(key, "db-1/disk"); a.Status != pagerdutytest.Resolved {
		t.Fatalf("alert = %+v, want resolved", a)
	}
	send(trigger(key, nil))
	if a, _ := srv.Alert(key, "db-1/disk"); a.Status != pagerdutytest.Triggered || a.Triggers != 1 {
		t.Fatalf("alert = %+v, want a new alert after the resolve", a)
	}
	send(trigger(key, func(ev, _ map[string]any) { delete(ev, "dedup_key") }))
	if got := len(srv.Alerts(key)); got != 2 {
		t.Errorf("%d alerts, want 2 (a trigger without a key gets its own)", got)
	}
	if got := len(srv.WaitForEvents(t, 7, time.Second)); got != 7 {
		t.Errorf("%d events recorded, want 7", got)
	}
}

// TestFakeRateLimit checks the per-routing-key limit: 429, Retry-After only when asked for.
func TestFakeRateLimit(t *testing.T) {
	t.Parallel()
	for _, withHeader := range []bool{false, true} {
		opts := []pagerdutytest.Option{pagerdutytest.WithRateLimit(time.Minute, 2)}
		if withHeader {
			opts = append(opts, pagerdutytest.WithRetryAfter())
		}
		srv := pagerdutytest.NewServer(t, opts...)
		c := &http.Client{}
		key, other := srv.NewRoutingKey(), srv.NewRoutingKey()
		for i, k := range []string{key, key, other, key} {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+pagerdutytest.EnqueuePath, strings.NewReader(trigger(k, nil)))
			req.Header.Set("Content-Type", "application/json")
			resp, _ := fakeprovider.Do(t, c, req)
			want := http.StatusAccepted
			if i == 3 {
				want = http.StatusTooManyRequests
			}
			if resp.StatusCode != want {
				t.Fatalf("request %d: %d, want %d", i, resp.StatusCode, want)
			}
			if i == 3 && (resp.Header.Get("Retry-After") != "") != withHeader {
				t.Errorf("Retry-After = %q with WithRetryAfter %v", resp.Header.Get("Retry-After"), withHeader)
			}
		}
		c.CloseIdleConnections()
	}
}
