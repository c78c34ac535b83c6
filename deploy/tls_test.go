package deploy

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/internal/testutil"
)

// natsStage is the NATS nodes' configuration directory as an operator's first start has
// it, in a temporary directory: a copy of every .conf file of the directory the nodes mount,
// with the mount's path inside the containers (/etc/nats/) rewritten to the copy's, and
// what the natsauth command writes before the first start, made by the command itself
// into the place its defaults take inside that directory. nats-server loads certificates
// while it parses a configuration, and no key is ever in the repository, so the nodes'
// configuration is read only from such a stage.
type natsStage struct {
	// dir is the copy; container is the path the nodes mount it at.
	dir, container string
	// tlsDir and credsDir are where the command's TLS material and seeds are in the copy.
	tlsDir, credsDir string
}

// bindMount is the bind mount of a service that holds a path inside its container: the
// repository's directory and the path it is mounted at.
func (d *deployment) bindMount(t *testing.T, service, inContainer string) (host, container string) {
	t.Helper()
	for _, v := range d.compose.Services[service].Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") {
			continue
		}
		if rest, ok := strings.CutPrefix(inContainer, parts[1]); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
			return filepath.Join(root, parts[0]), parts[1]
		}
	}
	t.Fatalf("service %s: no bind mount holds %s", service, inContainer)
	return "", ""
}

// stageNATS stages the nodes' configuration directory. With initialise, the command run is
// `natsauth init`, the documented step before the first start (new seeds, auth.conf made from
// them, TLS material); without, `natsauth tls` only, so that the repository's own auth.conf
// is the one parsed.
func stageNATS(t *testing.T, d *deployment, initialise bool) *natsStage {
	t.Helper()
	nodes := d.natsServices()
	if len(nodes) == 0 {
		t.Fatal("docker-compose.yml has no NATS service")
	}
	var host string
	st := &natsStage{dir: t.TempDir()}
	for _, name := range nodes {
		conf := flag(d.compose.Services[name].Command, "config")
		if conf == "" {
			t.Fatalf("service %s: nats-server without --config", name)
		}
		h, c := d.bindMount(t, name, conf)
		if host == "" {
			host, st.container = h, c
		} else if h != host || c != st.container {
			t.Errorf("service %s mounts its configuration from %s at %s, %s from %s at %s: one directory for every node", name, h, c, nodes[0], host, st.container)
		}
	}
	err := filepath.WalkDir(host, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".conf") {
			return err
		}
		rel, err := filepath.Rel(host, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		b = bytes.ReplaceAll(b, []byte(st.container+"/"), []byte(st.dir+"/"))
		if err := os.MkdirAll(filepath.Join(st.dir, filepath.Dir(rel)), 0o700); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(st.dir, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Where the command's defaults put its files inside the mounted directory.
	inStage := func(def string) string {
		rel, err := filepath.Rel(host, filepath.Join(root, def))
		if err != nil || strings.HasPrefix(rel, "..") {
			t.Fatalf("the natsauth command writes %s by default, outside %s, which the NATS nodes mount", def, host)
		}
		return filepath.Join(st.dir, rel)
	}
	st.tlsDir, st.credsDir = inStage(natsauth.DefaultTLSDir), inStage(natsauth.DefaultCredsDir)
	args := []string{"tls", "--out", st.tlsDir}
	if initialise {
		args = []string{"init", "--creds", st.credsDir, "--conf", inStage(natsauth.DefaultAuthConf), "--tls", st.tlsDir}
	}
	var channels []string
	for _, p := range all.Providers() {
		channels = append(channels, p.Name())
	}
	var out, errOut bytes.Buffer
	if code := natsauth.Main(args, channels, &out, &errOut); code != 0 {
		t.Fatalf("natsauth %v: exit %d: %s", args, code, errOut.String())
	}
	return st
}

// options parses a node's configuration from the stage, as nats-server does.
func (st *natsStage) options(t *testing.T, d *deployment, service string) *server.Options {
	t.Helper()
	conf := flag(d.compose.Services[service].Command, "config")
	path := filepath.Join(st.dir, strings.TrimPrefix(conf, st.container))
	o, err := server.ProcessConfigFile(path)
	if err != nil {
		t.Fatalf("service %s: %s: %v", service, conf, err)
	}
	return o
}

// stageTLSFiles replaces, in a Herald service's environment, the NATS TLS files it names
// with files the natsauth command made, after checking that each is mounted from the
// directory the command writes them into under a name it writes.
func (d *deployment) stageTLSFiles(t *testing.T, service string, env map[string]string) {
	t.Helper()
	var dir string
	for _, v := range []string{"NOTIFICATIONS_NATS_TLS_CA", "NOTIFICATIONS_NATS_TLS_CERT", "NOTIFICATIONS_NATS_TLS_KEY"} {
		if env[v] == "" {
			continue
		}
		host := d.hostPath(t, service, env[v])
		if filepath.Dir(host) != filepath.Join(root, natsauth.DefaultTLSDir) {
			t.Errorf("service %s: %s %s is not mounted from %s, where the natsauth command writes the TLS material", service, v, env[v], natsauth.DefaultTLSDir)
			continue
		}
		if dir == "" {
			dir = filepath.Join(t.TempDir(), "tls")
			var out, errOut bytes.Buffer
			if code := natsauth.Main([]string{"tls", "--out", dir}, nil, &out, &errOut); code != 0 {
				t.Fatalf("natsauth tls: exit %d: %s", code, errOut.String())
			}
		}
		staged := filepath.Join(dir, filepath.Base(host))
		if _, err := os.Stat(staged); err != nil {
			t.Errorf("service %s: %s names %s, which the natsauth command does not write", service, v, filepath.Base(host))
			continue
		}
		env[v] = staged
	}
}

// natsClients are the Herald services that connect to NATS: every one but the demo
// receiver.
func (d *deployment) natsClients() []string {
	var out []string
	for name := range d.compose.Services {
		if bin, ok := d.herald(name); ok && bin != "webhook-echo" {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// TestNATSTLS: every node takes client connections over TLS and routes over TLS with
// both ends verified, presenting the certificate the natsauth command makes; the
// monitoring port stays plain HTTP for the health check; every Herald service dials the
// nodes with tls:// and verifies them against the CA mounted from where the command writes
// it (with a client certificate too, should the nodes ever require one); and the servers'
// certificate the command makes names every host a client or a route dials.
func TestNATSTLS(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	st := stageNATS(t, d, false)
	block, _ := pem.Decode(readFile(t, st.tlsDir, natsauth.ServerCertFile))
	if block == nil {
		t.Fatal("the command's servers' certificate is not PEM")
	}
	presents := func(c *tls.Config) bool {
		return len(c.Certificates) == 1 && len(c.Certificates[0].Certificate) > 0 && bytes.Equal(c.Certificates[0].Certificate[0], block.Bytes)
	}
	dialled := map[string]bool{}
	verifyClients := false
	for _, name := range d.natsServices() {
		o := st.options(t, d, name)
		switch {
		case o.TLSConfig == nil:
			t.Errorf("%s: clients connect without TLS: its configuration must include tls/tls.conf", name)
		case !presents(o.TLSConfig):
			t.Errorf("%s: client TLS does not present the servers' certificate the natsauth command writes", name)
		default:
			verifyClients = verifyClients || o.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert
		}
		switch {
		case o.Cluster.TLSConfig == nil:
			t.Errorf("%s: routes without TLS: the cluster block must include tls/routes.conf", name)
		case !presents(o.Cluster.TLSConfig):
			t.Errorf("%s: route TLS does not present the servers' certificate the natsauth command writes", name)
		case o.Cluster.TLSConfig.ClientAuth != tls.RequireAndVerifyClientCert || o.Cluster.TLSConfig.ClientCAs == nil || o.Cluster.TLSConfig.RootCAs == nil:
			t.Errorf("%s: routes do not verify each other against the CA (verify: true, ca_file): anyone who reaches port %d could join the cluster", name, o.Cluster.Port)
		}
		for _, r := range o.Routes {
			dialled[r.Hostname()] = true
		}
		if o.HTTPPort == 0 || o.HTTPSPort != 0 {
			t.Errorf("%s: monitoring on http_port %d, https_port %d: the health check reads plain HTTP", name, o.HTTPPort, o.HTTPSPort)
		}
		hc := d.compose.Services[name].Healthcheck
		want := "http://127.0.0.1:" + strconv.Itoa(o.HTTPPort) + "/healthz"
		if hc == nil || !slices.ContainsFunc(hc.Test, func(a string) bool { return strings.HasPrefix(a, want) }) {
			t.Errorf("%s: its health check does not read %s", name, want)
		}
		for _, p := range d.compose.Services[name].Ports {
			if _, container := parsePort(t, name, p); container == o.Port {
				// Producers on the host reach the published client port by these names.
				dialled["localhost"], dialled["127.0.0.1"] = true, true
			}
		}
	}

	clients := d.natsClients()
	if len(clients) < 4 {
		t.Fatalf("only %v connect to NATS", clients)
	}
	for _, name := range clients {
		env := d.env[name]
		for _, u := range strings.Split(env["NOTIFICATIONS_NATS_URL"], ",") {
			if p, err := url.Parse(strings.TrimSpace(u)); err == nil {
				dialled[p.Hostname()] = true
			}
		}
		ca := env["NOTIFICATIONS_NATS_TLS_CA"]
		if ca == "" {
			t.Errorf("service %s: no NOTIFICATIONS_NATS_TLS_CA: it cannot verify the nodes' certificate", name)
		} else if got, want := d.hostPath(t, name, ca), filepath.Join(root, natsauth.DefaultTLSDir, natsauth.CAFile); got != want {
			t.Errorf("service %s: NOTIFICATIONS_NATS_TLS_CA %s is %s on the host; want %s, the CA the natsauth command makes", name, ca, got, want)
		}
		if verifyClients && (env["NOTIFICATIONS_NATS_TLS_CERT"] == "" || env["NOTIFICATIONS_NATS_TLS_KEY"] == "") {
			t.Errorf("service %s: the nodes verify clients' certificates, and it has none (NOTIFICATIONS_NATS_TLS_CERT, _KEY)", name)
		}
		// loadConfig checks that its CA is mounted where the command writes it and that
		// its configuration loads with the file in place.
		loadConfig(t, d, name, ":8080")
	}

	var hosts []string
	for h := range dialled {
		hosts = append(hosts, h)
	}
	slices.Sort(hosts)
	if err := natsauth.CheckServerCert(filepath.Join(st.tlsDir, natsauth.ServerCertFile), filepath.Join(st.tlsDir, natsauth.CAFile), hosts, time.Now()); err != nil {
		t.Errorf("the servers' certificate natsauth makes, for the hosts clients and routes dial (%v): %v", hosts, err)
	}
}

// TestNATSConfigurationStarts: a node's configuration, after `natsauth init`, starts a
// JetStream server (on free loopback ports and a temporary directory instead of the
// container's, and alone: the other nodes' names do not resolve here, and a clustered
// JetStream does not start without routes; TestNATSRoutesOverTLS starts two). A client that
// verifies it with the CA connects over TLS with its role's seed; one that does not trust
// the CA is refused, and so is a client that speaks plain text; the health check's plain
// HTTP answers.
func TestNATSConfigurationStarts(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	st := stageNATS(t, d, true)
	o := st.options(t, d, d.natsServices()[0])
	if o.TLSConfig == nil {
		t.Fatal("the node takes clients without TLS")
	}
	o.Host, o.Port, o.HTTPHost, o.HTTPPort = "127.0.0.1", -1, "127.0.0.1", -1
	o.Cluster, o.Routes, o.RoutesStr = server.ClusterOpts{}, nil, ""
	o.StoreDir = t.TempDir()
	o.JetStreamMaxStore = 1 << 30
	o.NoSigs, o.NoLog = true, true
	s := startNATS(t, o)
	testutil.WaitFor(t, 10*time.Second, "JetStream enabled", s.JetStreamEnabled)
	addr := s.Addr().String()

	producer := natsauth.SeedFile(st.credsDir, natsauth.Role{Kind: natsauth.Producer})
	connect := func(c natsauth.Client) (*nats.Conn, error) {
		opts, err := c.Options()
		if err != nil {
			t.Fatal(err)
		}
		return nats.Connect("tls://"+addr, append(opts, nats.Timeout(5*time.Second), nats.NoReconnect())...)
	}
	trusting := natsauth.Client{Creds: producer, CA: filepath.Join(st.tlsDir, natsauth.CAFile)}
	if o.TLSConfig.ClientAuth == tls.RequireAndVerifyClientCert {
		// Should the nodes ever ask clients for a certificate: the one the command makes.
		trusting.Cert, trusting.Key = filepath.Join(st.tlsDir, natsauth.ClientCertFile), filepath.Join(st.tlsDir, natsauth.ClientKeyFile)
	}
	nc, err := connect(trusting)
	if err != nil {
		t.Fatalf("a producer verifying the node with the CA: %v", err)
	}
	cs, err := nc.TLSConnectionState()
	if err != nil || len(cs.VerifiedChains) == 0 {
		t.Errorf("the producer's connection: %v, %d verified chains; want TLS verified against the CA", err, len(cs.VerifiedChains))
	}
	if err := nc.Publish("herald.events.acme.payment.failed", []byte("{}")); err != nil {
		t.Error(err)
	}
	if err := nc.Flush(); err != nil {
		t.Errorf("flush over TLS: %v", err)
	}
	nc.Close()

	distrusting := trusting
	distrusting.CA = ""
	if nc, err := connect(distrusting); err == nil {
		nc.Close()
		t.Error("a client that does not trust the CA connected")
	} else if !errors.As(err, new(x509.UnknownAuthorityError)) {
		t.Errorf("a client that does not trust the CA: %v; want an unknown authority", err)
	}

	// A plain-text client: it reads the INFO line, which says TLS is required, and sends its
	// CONNECT and a PING in clear; the node must close the connection without a PONG.
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		TLSRequired bool `json:"tls_required"`
	}
	if js, ok := strings.CutPrefix(strings.TrimSpace(line), "INFO "); !ok || json.Unmarshal([]byte(js), &info) != nil || !info.TLSRequired {
		t.Errorf("the node's INFO does not require TLS: %q", line)
	}
	if _, err := io.WriteString(conn, "CONNECT {\"verbose\":false,\"pedantic\":false,\"tls_required\":false}\r\nPING\r\n"); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Errorf("the node kept a plain-text connection open for 10s (read %q)", rest)
	}
	if bytes.Contains(rest, []byte("PONG")) {
		t.Errorf("the node answered a plain-text client: %q", rest)
	}

	resp, err := http.Get("http://" + s.MonitorAddr().String() + "/healthz?js-enabled-only=true")
	if err != nil {
		t.Fatalf("the health check's URL: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the health check's URL answered %s", resp.Status)
	}
}

// TestNATSRoutesOverTLS: two nodes started from their configurations (routes pointed at
// each other on loopback ports, the names in the servers' certificate) route to each other
// over TLS, each verifying the other's certificate.
func TestNATSRoutesOverTLS(t *testing.T) {
	t.Parallel()
	d := loadDeployment(t)
	st := stageNATS(t, d, false)
	nodes := d.natsServices()[:2]
	ports := freePorts(t, len(nodes))
	var servers []*server.Server
	for i, name := range nodes {
		o := st.options(t, d, name)
		if o.Cluster.TLSConfig == nil {
			t.Fatalf("%s: routes without TLS", name)
		}
		o.Host, o.Port, o.HTTPPort = "127.0.0.1", -1, 0
		o.Cluster.Host, o.Cluster.Port = "127.0.0.1", ports[i]
		other, err := url.Parse(fmt.Sprintf("nats-route://127.0.0.1:%d", ports[1-i]))
		if err != nil {
			t.Fatal(err)
		}
		o.Routes, o.RoutesStr = []*url.URL{other}, ""
		o.StoreDir = t.TempDir()
		o.JetStreamMaxStore = 1 << 30
		o.NoSigs, o.NoLog = true, true
		servers = append(servers, startNATS(t, o))
	}
	testutil.WaitFor(t, 30*time.Second, "the two nodes to route to each other over TLS", func() bool {
		return servers[0].NumRoutes() > 0 && servers[1].NumRoutes() > 0
	})
}

func startNATS(t *testing.T, o *server.Options) *server.Server {
	t.Helper()
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("the server did not become ready")
	}
	return s
}

// freePorts are n loopback ports free a moment ago, for route listeners that must be
// known before the servers start.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var out []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	return out
}
