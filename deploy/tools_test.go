package deploy

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	promconfig "github.com/prometheus/prometheus/config"
	// Registers dns_sd_configs, which prometheus.yml uses to find every worker replica.
	_ "github.com/prometheus/prometheus/discovery/dns"
)

// TestComposeLoadsWithCompose: docker-compose.yml loads with compose's own loader (its
// schema, merge keys, env files and normalisation), and what compose makes of each service
// is what the other tests read: the same services, entrypoints and replicas, and the same
// environment, so that their reading of the env file is compose's.
func TestComposeLoadsWithCompose(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(dir, "docker-compose.yml")}},
		Environment: types.Mapping{},
	}, func(o *loader.Options) { o.SetProjectName("herald", true) })
	if err != nil {
		t.Fatalf("compose does not load docker-compose.yml: %v", err)
	}
	d := loadDeployment(t)
	if len(project.Services) != len(d.compose.Services) {
		t.Errorf("compose sees %d services, the tests %d", len(project.Services), len(d.compose.Services))
	}
	for name, s := range project.Services {
		ours, ok := d.compose.Services[name]
		if !ok {
			t.Errorf("compose sees service %s, the tests do not", name)
			continue
		}
		if !slices.Equal([]string(s.Entrypoint), ours.Entrypoint) {
			t.Errorf("service %s: compose's entrypoint %v, the tests' %v", name, s.Entrypoint, ours.Entrypoint)
		}
		if got, want := s.GetScale(), max(1, ours.Deploy.Replicas); got != want {
			t.Errorf("service %s: compose runs %d replicas, the tests count %d", name, got, want)
		}
		for k, v := range s.Environment {
			if !strings.HasPrefix(k, "NOTIFICATIONS_") {
				continue
			}
			if v == nil || d.env[name][k] != *v {
				t.Errorf("service %s: compose sets %s to %v, the tests read %q", name, k, deref(v), d.env[name][k])
			}
		}
		for k := range d.env[name] {
			if _, ok := s.Environment[k]; !ok {
				t.Errorf("service %s: the tests read %s, which compose does not set", name, k)
			}
		}
	}
}

func deref(p *string) string {
	if p == nil {
		return "<unset>"
	}
	return *p
}

// TestPrometheusConfigLoads: prometheus.yml and the rule files it names load with
// Prometheus's own configuration loader, as the server validates them at start.
func TestPrometheusConfigLoads(t *testing.T) {
	t.Parallel()
	cfg, err := promconfig.LoadFile(filepath.Join("prometheus", "prometheus.yml"), false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	jobs := map[string]bool{}
	for _, sc := range cfg.ScrapeConfigs {
		jobs[sc.JobName] = true
	}
	// The alert rules' job matcher (up{job=~"herald-.*"}) and the dashboard's select these.
	for _, want := range []string{"herald-dispatcher", "herald-worker"} {
		if !jobs[want] {
			t.Errorf("prometheus.yml has no job %s", want)
		}
	}
	if len(cfg.RuleFiles) == 0 {
		t.Error("prometheus.yml loads no rule file")
	}
}
