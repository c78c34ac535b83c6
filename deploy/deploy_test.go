// Package deploy checks the production deployment files against the code they deploy: the
// Dockerfile, docker-compose.yml and deploy/herald.env, the NATS cluster's configuration,
// Prometheus's scrape configuration and alert rules, and the Grafana dashboard. None of them
// can run here (there is no Docker engine), so these tests hold them to what the binaries
// actually build, read, listen on and export: a variable Herald does not know, a metric it
// does not export, a port nothing listens on or a service that does not exist fails here
// instead of in an operator's first `docker compose up`.
//
// The package has only tests, so that Herald's binaries never link Prometheus's own
// packages, which the alert and dashboard tests use.
package deploy

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dispatch"
	"github.com/heraldhq/herald/internal/recorder"
	"github.com/heraldhq/herald/internal/tenants"
)

// root is the repository's root, where Dockerfile and docker-compose.yml live.
const root = ".."

// knownVariables is every NOTIFICATIONS_* variable Herald reads: those config.Load asks for
// (recorded by the getenv it is given, so a variable added to the loader is known at once)
// and every channel's own, from the registered providers' Spec.
func knownVariables(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{}
	record := func(name string) string {
		known[name] = true
		return ""
	}
	if _, err := config.Load(record, ":8080"); err != nil {
		t.Fatalf("config.Load with an empty environment: %v", err)
	}
	for _, p := range all.Providers() {
		for _, v := range p.Spec().Vars() {
			known[v] = true
		}
	}
	if len(known) < 30 {
		t.Fatalf("only %d variables known: is config.Load still reading through its getenv?", len(known))
	}
	return known
}

// describer records the descriptions of every collector registered through it, then
// registers the collector on the registry it wraps, so that a metrics set's constructor
// runs exactly as it does in a process.
type describer struct {
	*prometheus.Registry
	names map[string]bool
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

func (d *describer) record(c prometheus.Collector) {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	for desc := range ch {
		if m := fqName.FindStringSubmatch(desc.String()); m != nil {
			d.names[m[1]] = true
		}
	}
}

func (d *describer) Register(c prometheus.Collector) error {
	if err := d.Registry.Register(c); err != nil {
		return err
	}
	d.record(c)
	return nil
}

func (d *describer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := d.Register(c); err != nil {
			panic(err)
		}
	}
}

// exportedMetrics is the name of every metric a Herald process exports: every metrics set
// is built on a fresh registry, as internal/app builds them, and its collectors' Descs are
// read. A histogram's series add _bucket, _sum and _count to its name (see selectable).
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	d := &describer{Registry: prometheus.NewRegistry(), names: map[string]bool{}}
	// As internal/app's Start registers them, in every process.
	d.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	delivery.NewMetrics(d)
	dispatch.NewMetrics(d)
	tenants.NewMetrics(d)
	recorder.New(recorder.Config{}, nil, nil, slog.New(slog.DiscardHandler), d)
	for _, want := range []string{"notifications_delivered_total", "notifications_ledger_rows_total", "notifications_events_total", "notifications_consume_stalls_total", "go_goroutines"} {
		if !d.names[want] {
			t.Fatalf("the metrics sets do not describe %s: has the describer stopped seeing them?", want)
		}
	}
	return d.names
}

// prometheusMetrics are the series Prometheus makes itself for every target and rule.
var prometheusMetrics = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_series_added", "ALERTS", "ALERTS_FOR_STATE"}

// selectable reports whether a selector's metric name is one Herald exports, or one
// Prometheus makes, histogram and summary suffixes included.
func selectable(exported map[string]bool, name string) bool {
	if exported[name] || slices.Contains(prometheusMetrics, name) {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] {
			return true
		}
	}
	return false
}

func readFile(t *testing.T, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(path...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
