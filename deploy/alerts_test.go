package deploy

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

const alertsFile = "prometheus/alerts.yml"

// proposedMetrics are metrics an alert rule uses before Herald exports them, each with the
// labels it is to carry. The test fails as soon as one is exported, so that the entry goes.
var proposedMetrics = map[string]string{}

// TestAlertRulesAreWellFormed: the rule file loads as Prometheus loads it; every alert has a
// severity, a summary, a description and a runbook link to a paragraph that exists; every
// metric a rule selects is one Herald exports.
func TestAlertRulesAreWellFormed(t *testing.T) {
	t.Parallel()
	groups, errs := rulefmt.ParseFile(alertsFile, false, model.UTF8Validation, promqlParser, slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if groups == nil {
		t.FailNow()
	}
	exported := exportedMetrics(t)
	for name := range proposedMetrics {
		if exported[name] {
			t.Errorf("%s is exported now: remove it from proposedMetrics", name)
		}
	}
	anchors := runbookAnchors(t)
	production := string(readFile(t, root, "docs", "production.md"))
	alerts := 0
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts++
			if !oneOf(r.Labels["severity"], "info", "warning", "critical") {
				t.Errorf("%s: severity %q; want info, warning or critical", r.Alert, r.Labels["severity"])
			}
			for _, a := range []string{"summary", "description", "runbook_url"} {
				if r.Annotations[a] == "" {
					t.Errorf("%s has no %s", r.Alert, a)
				}
			}
			if anchor, ok := strings.CutPrefix(r.Annotations["runbook_url"], "docs/runbook.md#"); !ok || !anchors[anchor] {
				t.Errorf("%s: runbook_url %q is not a heading of docs/runbook.md", r.Alert, r.Annotations["runbook_url"])
			}
			if !strings.Contains(production, "| `"+r.Alert+"` |") {
				t.Errorf("%s is not in docs/production.md's table of alerts", r.Alert)
			}
			names, err := metricsOf(r.Expr)
			if err != nil {
				t.Errorf("%s: %v", r.Alert, err)
				continue
			}
			for _, n := range names {
				if _, proposed := proposedMetrics[n]; !selectable(exported, n) && !proposed {
					t.Errorf("%s selects %s, which Herald does not export", r.Alert, n)
				}
			}
		}
	}
	// Every alert has a case that fires it and one that does not, and every case an alert.
	cases := map[string]map[bool]bool{}
	for _, c := range alertCases() {
		if cases[c.alert] == nil {
			cases[c.alert] = map[bool]bool{}
		}
		cases[c.alert][c.fires] = true
	}
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" && !(cases[r.Alert][true] && cases[r.Alert][false]) {
				t.Errorf("%s: give it a case that fires it and one that does not in alertCases", r.Alert)
			}
			delete(cases, r.Alert)
		}
	}
	for a := range cases {
		if a != "" {
			t.Errorf("alertCases has cases for %s, which alerts.yml does not have", a)
		}
	}
	if alerts == 0 {
		t.Error("alerts.yml has no alert")
	}
}

func oneOf(v string, allowed ...string) bool {
	for _, a := range allowed {
		if v == a {
			return true
		}
	}
	return false
}

// runbookAnchors are the GitHub anchors of docs/runbook.md's headings.
func runbookAnchors(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(string(readFile(t, root, "docs", "runbook.md")), "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.TrimSpace(strings.TrimLeft(h, "#"))
			out[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-")] = true
		}
	}
	return out
}

// alertCase is one alert, series in promqltest's load format (one sample a minute from
// time 0), and whether the alert fires at a time.
type alertCase struct {
	alert  string
	series string
	at     time.Duration
	fires  bool
	// labels the firing alert must carry.
	labels map[string]string
}

// alertCases holds, for every alert, series that must fire it and series that must not.
func alertCases() []alertCase {
	return []alertCase{
		{alert: "HeraldBacklogGrowing", fires: true, at: 30 * time.Minute, labels: map[string]string{"channel": "webhook"},
			series: `notification_queue_depth{channel="webhook", instance="w1"} 0+20x40
				notification_queue_depth{channel="webhook", instance="w2"} 0+20x40
				notification_queue_depth{channel="email", instance="w1"} 0+1x40`},
		{alert: "HeraldBacklogGrowing", fires: false, at: 30 * time.Minute,
			series: `notification_queue_depth{channel="webhook", instance="w1"} 1000-10x40
				notification_queue_depth{channel="email", instance="w1"} 0+1x40`},

		{alert: "HeraldDeliveryFailureRate", fires: true, at: 30 * time.Minute, labels: map[string]string{"channel": "slack"},
			series: `notifications_delivered_total{channel="slack", event_type="payment.failed", status="delivered"} 0+60x40
				notifications_delivered_total{channel="slack", event_type="payment.failed", status="retrying"} 0+60x40
				notifications_delivered_total{channel="email", event_type="payment.failed", status="delivered"} 0+60x40`},
		{alert: "HeraldDeliveryFailureRate", fires: false, at: 30 * time.Minute,
			series: `notifications_delivered_total{channel="slack", event_type="payment.failed", status="delivered"} 0+600x40
				notifications_delivered_total{channel="slack", event_type="payment.failed", status="retrying"} 0+6x40`},

		// A worker's first dead letter: the series appears at 1.
		{alert: "HeraldDeadLetters", fires: true, at: 10 * time.Minute, labels: map[string]string{"channel": "webhook", "status": "dead"},
			series: `notifications_delivered_total{channel="webhook", event_type="other", status="delivered"} 0+10x40
				notifications_delivered_total{channel="webhook", event_type="other", status="dead"} _x5 1x30`},
		// Old dead letters, none new.
		{alert: "HeraldDeadLetters", fires: false, at: 30 * time.Minute,
			series: `notifications_delivered_total{channel="webhook", event_type="other", status="delivered"} 0+10x40
				notifications_delivered_total{channel="webhook", event_type="other", status="failed"} 3x40`},

		{alert: "HeraldInvalidEvents", fires: true, at: 20 * time.Minute, labels: map[string]string{"reason": "json"},
			series: `notifications_invalid_events_total{reason="json"} 1x15 2x20`},
		{alert: "HeraldInvalidEvents", fires: false, at: 30 * time.Minute,
			series: `notifications_invalid_events_total{reason="json"} 5x40`},

		{alert: "HeraldRecorderStalled", fires: true, at: 30 * time.Minute,
			series: `notifications_delivered_total{channel="webhook", event_type="other", status="delivered"} 0+60x40
				notifications_ledger_rows_total{instance="d1"} 100x40`},
		{alert: "HeraldRecorderStalled", fires: false, at: 30 * time.Minute,
			series: `notifications_delivered_total{channel="webhook", event_type="other", status="delivered"} 0+60x40
				notifications_ledger_rows_total{instance="d1"} 0+60x40`},

		{alert: "HeraldRecorderLagging", fires: true, at: 30 * time.Minute,
			series: `notifications_ledger_lag_seconds_bucket{le="1"} 0x40
				notifications_ledger_lag_seconds_bucket{le="60"} 0x40
				notifications_ledger_lag_seconds_bucket{le="120"} 0+10x40
				notifications_ledger_lag_seconds_bucket{le="+Inf"} 0+10x40`},
		{alert: "HeraldRecorderLagging", fires: false, at: 30 * time.Minute,
			series: `notifications_ledger_lag_seconds_bucket{le="1"} 0+10x40
				notifications_ledger_lag_seconds_bucket{le="60"} 0+10x40
				notifications_ledger_lag_seconds_bucket{le="120"} 0+10x40
				notifications_ledger_lag_seconds_bucket{le="+Inf"} 0+10x40
				notifications_ledger_batches_total{result="ok"} 0+10x40`},

		{alert: "HeraldDestinationDisabled", fires: true, at: 10 * time.Minute, labels: map[string]string{"channel": "webhook"},
			series: `notifications_destinations_disabled_total{channel="webhook"} _x5 1x30`},
		{alert: "HeraldDestinationDisabled", fires: false, at: 30 * time.Minute,
			series: `notifications_destinations_disabled_total{channel="webhook"} 2x40`},

		{alert: "HeraldProcessDown", fires: true, at: 15 * time.Minute, labels: map[string]string{"job": "herald-worker", "instance": "10.0.0.5:8081"},
			series: `up{job="herald-worker", instance="10.0.0.5:8081"} 1x5 0x20
				up{job="herald-dispatcher", instance="dispatcher-1:8080"} 1x40`},
		// Down for less than two minutes, and a process that is not Herald's.
		{alert: "HeraldProcessDown", fires: false, at: 15 * time.Minute,
			series: `up{job="herald-worker", instance="10.0.0.5:8081"} 1x13 0x20
				up{job="node", instance="10.0.0.9:9100"} 0x40`},
	}
}

// TestAlertRulesFire evaluates the rule file as Prometheus does (its rules manager over a
// storage loaded with each case's series, stepping a minute at a time, as promtool's rule
// tests do) and checks which alerts fire.
func TestAlertRulesFire(t *testing.T) {
	t.Parallel()
	for _, c := range alertCases() {
		t.Run(fmt.Sprintf("%s/fires=%v", c.alert, c.fires), func(t *testing.T) {
			t.Parallel()
			firing, err := evalAlerts(t, c.series, c.at)
			if err != nil {
				t.Fatal(err)
			}
			got := firing[c.alert]
			if c.fires != (len(got) > 0) {
				t.Fatalf("at %v: %s firing %v; want firing=%v", c.at, c.alert, got, c.fires)
			}
			for _, ls := range got {
				for k, v := range c.labels {
					if ls.Get(k) != v {
						t.Errorf("%s fired with %s; want %s=%q", c.alert, ls, k, v)
					}
				}
			}
		})
	}
}

// evalAlerts loads the series, evaluates every group of the rule file once a minute up to
// at, and returns the labels of each alert firing then.
func evalAlerts(t *testing.T, series string, at time.Duration) (map[string][]labels.Labels, error) {
	t.Helper()
	const step = time.Minute
	suite, err := promqltest.NewLazyLoader("load 1m\n"+dedent(series), promqltest.LazyLoaderOpts{
		EnableAtModifier: true, EnableNegativeOffset: true, Parser: promqlParser,
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { suite.Close() })
	suite.SubqueryInterval = step
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(suite.QueryEngine(), suite.Storage()),
		AppendableV2: suite.Storage(),
		Context:      context.Background(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       slog.New(slog.DiscardHandler),
		Parser:       promqlParser,
	})
	path, err := filepath.Abs(alertsFile)
	if err != nil {
		return nil, err
	}
	groups, errs := m.LoadGroups(step, labels.EmptyLabels(), "", nil, false, path)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	for _, g := range groups {
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				ar.SetRestored(true)
			}
		}
	}
	start := time.Unix(0, 0).UTC()
	var evalErr error
	for ts := start; !ts.After(start.Add(at)); ts = ts.Add(step) {
		suite.WithSamplesTill(ts, func(err error) {
			if err != nil {
				evalErr = err
				return
			}
			for _, g := range groups {
				g.Eval(suite.Context(), ts)
				for _, r := range g.Rules() {
					if r.LastError() != nil && evalErr == nil {
						evalErr = fmt.Errorf("rule %s at %v: %w", r.Name(), ts.Sub(start), r.LastError())
					}
				}
			}
		})
		if evalErr != nil {
			return nil, evalErr
		}
	}
	firing := map[string][]labels.Labels{}
	for _, g := range groups {
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					firing[ar.Name()] = append(firing[ar.Name()], a.Labels)
				}
			}
		}
	}
	return firing, nil
}

// dedent trims each line, as promqltest wants its series one to a line.
func dedent(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}
