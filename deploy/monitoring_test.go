package deploy

import (
	"encoding/json"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"go.yaml.in/yaml/v3"

	"github.com/heraldhq/herald/internal/broker/embedded"
)

// hostPath maps a path inside a service's container to the repository file a bind mount
// puts there.
func (d *deployment) hostPath(t *testing.T, service, inContainer string) string {
	t.Helper()
	host, container := d.bindMount(t, service, inContainer)
	return filepath.Join(host, strings.TrimPrefix(inContainer, container))
}

// natsServices are the NATS nodes of the file, sorted.
func (d *deployment) natsServices() []string {
	var out []string
	for name, s := range d.compose.Services {
		if strings.HasPrefix(s.Image, "nats:") {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// natsOptions parses a NATS node's configuration as nats-server itself does, includes and
// all, from a copy of the mounted configuration with the TLS files in place (natsStage):
// nats-server loads the certificates while it parses.
func natsOptions(t *testing.T, d *deployment, service string) *server.Options {
	t.Helper()
	if d.stage == nil {
		d.stage = stageNATS(t, d, false)
	}
	return d.stage.options(t, d, service)
}

// TestNATSCluster: three nodes, each named as its service, in one cluster whose routes name
// the three nodes at their cluster port, with JetStream on the node's volume; Herald's
// processes know all three and keep three replicas of every stream.
func TestNATSCluster(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	nodes := d.natsServices()
	if len(nodes) != 3 {
		t.Fatalf("NATS services %v; want three", nodes)
	}
	for _, name := range nodes {
		o := natsOptions(t, d, name)
		if o.ServerName != name {
			t.Errorf("%s: server_name %q; want the service's name", name, o.ServerName)
		}
		if o.Cluster.Name != "herald" || o.Cluster.Port == 0 {
			t.Errorf("%s: cluster %q on port %d; want cluster herald on a fixed port", name, o.Cluster.Name, o.Cluster.Port)
		}
		var routes []string
		for _, r := range o.Routes {
			if r.Port() != strconv.Itoa(o.Cluster.Port) {
				t.Errorf("%s: route %s is not on the cluster port %d", name, r, o.Cluster.Port)
			}
			routes = append(routes, r.Hostname())
		}
		slices.Sort(routes)
		if !slices.Equal(routes, nodes) {
			t.Errorf("%s: routes name %v; want the three nodes %v", name, routes, nodes)
		}
		if !o.JetStream {
			t.Errorf("%s: JetStream is off", name)
		}
		mounted := false
		for _, v := range d.compose.Services[name].Volumes {
			src, dst, _ := strings.Cut(v, ":")
			mounted = mounted || (dst == o.StoreDir && !strings.HasPrefix(src, "."))
		}
		if !mounted {
			t.Errorf("%s: JetStream's store_dir %q is not on a named volume: a restart would lose the streams", name, o.StoreDir)
		}
		if o.MaxPayload != embedded.MaxPayload {
			t.Errorf("%s: max_payload %d; want %d as the embedded server has, above Herald's largest event", name, o.MaxPayload, embedded.MaxPayload)
		}
	}
	client := natsOptions(t, d, nodes[0]).Port
	for name := range d.compose.Services {
		if bin, ok := d.herald(name); !ok || bin == "webhook-echo" {
			continue
		}
		var hosts []string
		for _, u := range strings.Split(d.env[name]["NOTIFICATIONS_NATS_URL"], ",") {
			rest, ok := strings.CutPrefix(strings.TrimSpace(u), "tls://")
			host, port, err := net.SplitHostPort(rest)
			if !ok || err != nil || port != strconv.Itoa(client) {
				t.Errorf("service %s: NOTIFICATIONS_NATS_URL has %q; want tls://<node>:%d, so that the process refuses a node without TLS", name, u, client)
			}
			hosts = append(hosts, host)
		}
		slices.Sort(hosts)
		if !slices.Equal(hosts, nodes) {
			t.Errorf("service %s: NOTIFICATIONS_NATS_URL names %v; want every node %v, so that it fails over", name, hosts, nodes)
		}
		if got := d.env[name]["NOTIFICATIONS_STREAM_REPLICAS"]; got != strconv.Itoa(len(nodes)) {
			t.Errorf("service %s: NOTIFICATIONS_STREAM_REPLICAS=%q; want %d, one replica per node", name, got, len(nodes))
		}
	}
}

// prometheusConfig is the part of prometheus.yml the tests read.
type prometheusConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
		DNSSDConfigs []struct {
			Names []string `yaml:"names"`
			Type  string   `yaml:"type"`
			Port  int      `yaml:"port"`
		} `yaml:"dns_sd_configs"`
	} `yaml:"scrape_configs"`
}

// TestPrometheusScrapesEveryProcess: every scrape target names a service and a port it
// listens on, every Herald process is scraped, and the rule files exist where Prometheus
// looks for them.
func TestPrometheusScrapesEveryProcess(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	const service = "prometheus"
	confPath := flag(d.compose.Services[service].Command, "config.file")
	if confPath == "" {
		t.Fatal("prometheus without --config.file")
	}
	host := d.hostPath(t, service, confPath)
	var cfg prometheusConfig
	if err := yaml.Unmarshal(readFile(t, host), &cfg); err != nil {
		t.Fatal(err)
	}
	for _, f := range cfg.RuleFiles {
		readFile(t, filepath.Dir(host), f)
	}
	if !slices.Contains(cfg.RuleFiles, "alerts.yml") {
		t.Errorf("prometheus.yml does not load alerts.yml: %v", cfg.RuleFiles)
	}
	scraped := map[string]bool{}
	target := func(job, name string, port int) {
		if name == "localhost" && job == "prometheus" {
			name = service
		}
		if _, ok := d.compose.Services[name]; !ok {
			t.Errorf("job %s scrapes %s, which is no service", job, name)
			return
		}
		if listens := d.listens(t, name); !slices.Contains(listens, port) {
			t.Errorf("job %s scrapes %s on port %d; it listens on %v", job, name, port, listens)
		}
		scraped[name] = true
	}
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				h, p, err := net.SplitHostPort(tg)
				n, _ := strconv.Atoi(p)
				if err != nil || n == 0 {
					t.Errorf("job %s: target %q is not host:port", sc.JobName, tg)
					continue
				}
				target(sc.JobName, h, n)
			}
		}
		for _, dns := range sc.DNSSDConfigs {
			if dns.Type != "A" || dns.Port == 0 {
				t.Errorf("job %s: dns_sd_configs want type A and a port", sc.JobName)
			}
			for _, n := range dns.Names {
				target(sc.JobName, n, dns.Port)
			}
		}
	}
	for name := range d.compose.Services {
		if bin, ok := d.herald(name); ok && bin != "webhook-echo" && !scraped[name] {
			t.Errorf("service %s runs %s, which Prometheus does not scrape", name, bin)
		}
	}
}

// TestGrafanaProvisioning: the data source is the compose file's Prometheus, the dashboard
// provider reads the mounted dashboards, and the dashboard uses the provisioned data source.
func TestGrafanaProvisioning(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	const service = "grafana"
	var ds struct {
		Datasources []struct {
			UID, Type, URL string
		} `yaml:"datasources"`
	}
	if err := yaml.Unmarshal(readFile(t, d.hostPath(t, service, "/etc/grafana/provisioning/datasources/prometheus.yml")), &ds); err != nil {
		t.Fatal(err)
	}
	if len(ds.Datasources) != 1 || ds.Datasources[0].Type != "prometheus" {
		t.Fatalf("want one Prometheus data source: %+v", ds.Datasources)
	}
	uid := ds.Datasources[0].UID
	d.checkAddress(t, service, "datasource url", ds.Datasources[0].URL)

	var prov struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	if err := yaml.Unmarshal(readFile(t, d.hostPath(t, service, "/etc/grafana/provisioning/dashboards/herald.yml")), &prov); err != nil {
		t.Fatal(err)
	}
	if len(prov.Providers) != 1 {
		t.Fatalf("want one dashboard provider: %+v", prov.Providers)
	}
	dir := d.hostPath(t, service, prov.Providers[0].Options.Path)
	if filepath.Clean(dir) != filepath.Join(root, "deploy", "grafana", "dashboards") {
		t.Errorf("the dashboard provider reads %s", dir)
	}
	var dash dashboard
	if err := json.Unmarshal(readFile(t, dir, "herald.json"), &dash); err != nil {
		t.Fatal(err)
	}
	for _, p := range dash.allPanels() {
		if p.Datasource != nil && p.Datasource.UID != uid {
			t.Errorf("panel %q uses data source %q; the provisioned one is %q", p.Title, p.Datasource.UID, uid)
		}
		for _, tg := range p.Targets {
			if tg.Datasource != nil && tg.Datasource.UID != uid {
				t.Errorf("panel %q target %s uses data source %q; the provisioned one is %q", p.Title, tg.RefID, tg.Datasource.UID, uid)
			}
		}
	}
}
