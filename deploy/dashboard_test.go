package deploy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// dashboard is the part of a Grafana dashboard's JSON the tests read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	GridPos struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string `json:"refId"`
		Expr       string `json:"expr"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's panels
}

// allPanels lists every panel, those inside collapsed rows included.
func (d dashboard) allPanels() []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// grafanaVariables stand in for the dashboard's variables and Grafana's interval macros, so
// that an expression parses as Prometheus will receive it.
var grafanaVariables = strings.NewReplacer(
	"$__rate_interval", "1m",
	"$__interval", "1m",
	"$__range", "1h",
	"$channel", "webhook|email",
)

var promqlParser = parser.NewParser(parser.Options{})

// metricsOf parses a PromQL expression and returns the metric names it selects.
func metricsOf(expr string) ([]string, error) {
	e, err := promqlParser.ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			names = append(names, vs.Name)
		}
		return nil
	})
	if len(names) == 0 {
		return nil, fmt.Errorf("selects no metric")
	}
	return names, nil
}

// TestDashboardQueriesSelectExportedMetrics: every query of every panel parses as PromQL
// and selects only metrics Herald exports (or Prometheus makes), so that no panel stays
// empty for a misspelt or renamed metric.
func TestDashboardQueriesSelectExportedMetrics(t *testing.T) {
	t.Parallel()
	exported := exportedMetrics(t)
	var d dashboard
	if err := json.Unmarshal(readFile(t, "grafana", "dashboards", "herald.json"), &d); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.Title == "" {
		t.Error("the dashboard needs a uid (its stable address) and a title")
	}
	queries := 0
	ids := map[int]bool{}
	for _, p := range d.allPanels() {
		if ids[p.ID] {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Type != "row" && len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			queries++
			expr := grafanaVariables.Replace(tg.Expr)
			if strings.Contains(expr, "$") {
				t.Errorf("panel %q query %s: a variable the test does not know: %s", p.Title, tg.RefID, tg.Expr)
				continue
			}
			names, err := metricsOf(expr)
			if err != nil {
				t.Errorf("panel %q query %s: %v\n%s", p.Title, tg.RefID, err, tg.Expr)
				continue
			}
			for _, n := range names {
				if !selectable(exported, n) {
					t.Errorf("panel %q query %s selects %s, which Herald does not export", p.Title, tg.RefID, n)
				}
			}
		}
	}
	for _, v := range d.Templating.List {
		if name, ok := strings.CutPrefix(v.Definition, "label_values("); ok {
			name, _, _ = strings.Cut(name, ",")
			if !selectable(exported, strings.TrimSpace(name)) {
				t.Errorf("variable %s reads %s, which Herald does not export", v.Name, name)
			}
		}
	}
	if queries < 20 {
		t.Errorf("only %d queries: did the dashboard's layout change under the test?", queries)
	}
}

// TestDashboardCoversThePipeline: the dashboard shows each part of the pipeline an operator
// is asked about: deliveries and failures, latency, retries, backlog, dead letters,
// breakers, holds, the recorder and consume stalls.
func TestDashboardCoversThePipeline(t *testing.T) {
	t.Parallel()
	var d dashboard
	if err := json.Unmarshal(readFile(t, "grafana", "dashboards", "herald.json"), &d); err != nil {
		t.Fatal(err)
	}
	var selected []string
	for _, p := range d.allPanels() {
		for _, tg := range p.Targets {
			names, err := metricsOf(grafanaVariables.Replace(tg.Expr))
			if err == nil {
				selected = append(selected, names...)
			}
		}
	}
	for _, want := range []string{
		"notifications_delivered_total",
		"notification_delivery_duration_seconds_bucket",
		"notification_retries_total",
		"notification_queue_depth",
		"notifications_invalid_events_total",
		"notifications_circuit_state",
		"notifications_held_total",
		"notifications_ledger_lag_seconds_bucket",
		"notifications_consume_stalls_total",
	} {
		if !slices.Contains(selected, want) {
			t.Errorf("no panel shows %s", want)
		}
	}
}

// TestDashboardLayout: panels do not overlap on Grafana's 24-column grid.
func TestDashboardLayout(t *testing.T) {
	t.Parallel()
	var d dashboard
	if err := json.Unmarshal(readFile(t, "grafana", "dashboards", "herald.json"), &d); err != nil {
		t.Fatal(err)
	}
	type cell struct{ x, y int }
	taken := map[cell]string{}
	for _, p := range d.Panels {
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: gridPos %+v is off the grid", p.Title, g)
			continue
		}
		for x := g.X; x < g.X+g.W; x++ {
			for y := g.Y; y < g.Y+g.H; y++ {
				if other, ok := taken[cell{x, y}]; ok {
					t.Errorf("panels %q and %q overlap at %d,%d", other, p.Title, x, y)
					return
				}
				taken[cell{x, y}] = p.Title
			}
		}
	}
}
