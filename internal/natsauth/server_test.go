package natsauth_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/internal/natsproc"
	"github.com/heraldhq/herald/internal/testutil"
)

var testRoles = []natsauth.Role{{Kind: natsauth.Producer}, {Kind: natsauth.Dispatcher}, {Kind: natsauth.Admin},
	natsauth.WorkerOf("webhook"), natsauth.WorkerOf("slack")}

// TestAuthConfOnANATSServerProcess: auth.conf, as the credentials command writes it and a
// nats-server process reads it from its configuration file, holds every role to its
// subjects as the embedded server does.
func TestAuthConfOnANATSServerProcess(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin, err := natsproc.Build(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	creds := t.TempDir()
	users, err := natsauth.EnsureSeeds(creds, "herald", testRoles)
	if err != nil {
		t.Fatal(err)
	}
	s, err := natsproc.StartServer(ctx, natsproc.Config{Binary: bin, Dir: dir, Extra: string(natsauth.AuthConf(users))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	if nc, err := nats.Connect(s.URL()); !errors.Is(err, nats.ErrAuthorization) {
		if nc != nil {
			nc.Close()
		}
		t.Fatalf("connect without credentials: %v, want an authorization violation", err)
	}
	checkRoles(t, s.URL(), creds)
}

// TestCredentialsCommand: the command writes a seed per role (0600, in a 0700 directory)
// and auth.conf; run again it keeps the seeds, so the keys in auth.conf stay the same.
func TestCredentialsCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	creds, conf := filepath.Join(dir, "creds"), filepath.Join(dir, "nats", "auth.conf")
	run := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := natsauth.Main(args, []string{"webhook", "slack"}, &out, &errOut); code != 0 {
			t.Fatalf("natsauth %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	run("credentials", "--out", creds, "--conf", conf)
	first, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(creds); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("credentials directory: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	for _, name := range []string{"producer", "dispatcher", "admin", "worker-webhook", "worker-slack", "worker-all"} {
		st, err := os.Stat(filepath.Join(creds, name+".nk"))
		if err != nil {
			t.Errorf("seed of %s: %v", name, err)
			continue
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("seed of %s has mode %v, want 0600", name, st.Mode().Perm())
		}
		pub, err := natsauth.PublicKeyOf(filepath.Join(creds, name+".nk"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(first, []byte(strconv.Quote(pub))) {
			t.Errorf("auth.conf does not list %s's public key", name)
		}
		seed, _ := os.ReadFile(filepath.Join(creds, name+".nk"))
		for _, line := range strings.Split(string(seed), "\n") {
			if strings.HasPrefix(line, "SU") && bytes.Contains(first, []byte(line)) {
				t.Errorf("auth.conf holds %s's seed", name)
			}
		}
	}
	o, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats-server cannot read auth.conf: %v", err)
	}
	if len(o.Nkeys) != 6 {
		t.Errorf("auth.conf has %d nkey users, want 6", len(o.Nkeys))
	}
	run("credentials", "--out", creds, "--conf", conf)
	if again, _ := os.ReadFile(conf); !bytes.Equal(first, again) {
		t.Error("a second run changed auth.conf: it made new seeds instead of keeping them")
	}
	out := run("credentials", "--out", creds, "--conf", conf, "--role", "worker-webhook,slack", "--prefix", "acme")
	if !strings.Contains(out, "worker-slack+webhook") {
		t.Errorf("a worker of two channels: %s", out)
	}
	if b, _ := os.ReadFile(conf); !bytes.Contains(b, []byte(`"acme.results.slack"`)) || bytes.Contains(b, []byte("herald.")) {
		t.Errorf("auth.conf under the prefix acme:\n%s", b)
	}
	var errOut bytes.Buffer
	if code := natsauth.Main([]string{"credentials", "--role", "worker-"}, nil, &bytes.Buffer{}, &errOut); code != 2 {
		t.Errorf("a worker without a channel: exit %d, want 2", code)
	}
}

// TestDevTLS: the tls command's CA and certificates, in a server configuration with client
// TLS and auth.conf as nats-server reads it: a client that trusts the CA connects with its
// seed; one that does not is refused, and so is one without credentials.
func TestDevTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tlsDir, creds := filepath.Join(dir, "tls"), filepath.Join(dir, "creds")
	var out, errOut bytes.Buffer
	if code := natsauth.Main([]string{"tls", "--out", tlsDir, "--host", "localhost", "--host", "127.0.0.1"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("natsauth tls: exit %d: %s", code, errOut.String())
	}
	for _, f := range []string{natsauth.CAKeyFile, natsauth.ServerKeyFile, natsauth.ClientKeyFile} {
		if st, err := os.Stat(filepath.Join(tlsDir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v; want mode 0600", f, err)
		}
	}
	if code := natsauth.Main([]string{"tls", "--out", tlsDir}, nil, &out, &errOut); code == 0 {
		t.Error("tls overwrote existing files")
	}
	users, err := natsauth.EnsureSeeds(creds, "herald", testRoles[:1])
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "nats.conf")
	f := func(name string) string { return strconv.Quote(filepath.Join(tlsDir, name)) }
	body := "listen: \"127.0.0.1:-1\"\njetstream { store_dir: " + strconv.Quote(filepath.Join(dir, "store")) + " }\n" +
		"tls {\n  cert_file: " + f(natsauth.ServerCertFile) + "\n  key_file: " + f(natsauth.ServerKeyFile) +
		"\n  ca_file: " + f(natsauth.CAFile) + "\n  verify: true\n}\n" + string(natsauth.AuthConf(users))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	o.Port, o.NoLog, o.NoSigs = -1, true, true
	s, err := server.NewServer(o)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	url := s.ClientURL()
	producer := natsauth.SeedFile(creds, natsauth.Role{Kind: natsauth.Producer})
	connect := func(c natsauth.Client) error {
		opts, err := c.Options()
		if err != nil {
			return err
		}
		nc, err := nats.Connect(url, append(opts, nats.Timeout(2*time.Second))...)
		if err == nil {
			defer nc.Close()
			return nc.Publish("herald.events.acme.x", nil)
		}
		return err
	}
	client := natsauth.Client{Creds: producer, CA: filepath.Join(tlsDir, natsauth.CAFile),
		Cert: filepath.Join(tlsDir, natsauth.ClientCertFile), Key: filepath.Join(tlsDir, natsauth.ClientKeyFile)}
	if err := connect(client); err != nil {
		t.Fatalf("a client trusting the CA, with its certificate and seed: %v", err)
	}
	noCA := client
	noCA.CA = ""
	if err := connect(noCA); err == nil {
		t.Error("a client that does not trust the development CA connected")
	}
	noCert := client
	noCert.Cert, noCert.Key = "", ""
	if err := connect(noCert); err == nil {
		t.Error("a client without a certificate connected to a server that verifies clients")
	}
	noCreds := client
	noCreds.Creds = ""
	if err := connect(noCreds); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("a client without credentials: %v, want an authorization violation", err)
	}
	if _, err := (natsauth.Client{Cert: client.Cert}).Options(); err == nil {
		t.Error("a certificate without its key was taken")
	}
}

// TestDevTLSRoutes: the servers' certificate serves route connections too: two nodes whose
// cluster block requires TLS with it (and verifies the other node's) route to each other.
func TestDevTLSRoutes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tlsDir := filepath.Join(dir, "tls")
	if err := natsauth.WriteDevTLS(tlsDir, natsauth.DevTLS{Hosts: []string{"127.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 2)
	f := func(name string) string { return strconv.Quote(filepath.Join(tlsDir, name)) }
	var servers []*server.Server
	for i := range 2 {
		conf := filepath.Join(dir, "n"+strconv.Itoa(i)+".conf")
		body := "server_name: n" + strconv.Itoa(i) + "\nlisten: \"127.0.0.1:-1\"\ncluster {\n  name: c\n  listen: \"127.0.0.1:" +
			strconv.Itoa(ports[i]) + "\"\n  routes: [\"nats-route://127.0.0.1:" + strconv.Itoa(ports[1-i]) + "\"]\n" +
			"  tls {\n    cert_file: " + f(natsauth.ServerCertFile) + "\n    key_file: " + f(natsauth.ServerKeyFile) +
			"\n    ca_file: " + f(natsauth.CAFile) + "\n    verify: true\n  }\n}\n"
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		o, err := server.ProcessConfigFile(conf)
		if err != nil {
			t.Fatal(err)
		}
		o.NoLog, o.NoSigs = true, true
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		servers = append(servers, s)
	}
	testutil.WaitFor(t, 20*time.Second, "the nodes to route to each other over TLS", func() bool {
		return servers[0].NumRoutes() > 0 && servers[1].NumRoutes() > 0
	})
}

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
