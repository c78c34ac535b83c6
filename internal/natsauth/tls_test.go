package natsauth_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/natsauth"
)

// runCommand runs the natsauth command and returns its exit status and what it printed.
func runCommand(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = natsauth.Main(args, []string{"webhook", "slack"}, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestInitCommand: init makes the seeds, auth.conf and the TLS material in one run, with a
// servers' certificate that names every compose node and the loopback names; run again it
// keeps all of it, so the keys the servers know and the CA the clients trust stay the same.
func TestInitCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	creds, conf, tlsDir := filepath.Join(dir, "creds"), filepath.Join(dir, "auth.conf"), filepath.Join(dir, "tls")
	args := []string{"init", "--creds", creds, "--conf", conf, "--tls", tlsDir}
	code, out, errOut := runCommand(args...)
	if code != 0 {
		t.Fatalf("init: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "wrote "+natsauth.CAFile) {
		t.Errorf("init did not say it wrote the TLS material:\n%s", out)
	}
	for _, f := range []string{natsauth.CAKeyFile, natsauth.ServerKeyFile, natsauth.ClientKeyFile} {
		if st, err := os.Stat(filepath.Join(tlsDir, f)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v; want mode 0600", f, err)
		}
	}
	for _, name := range []string{"producer", "dispatcher", "admin", "worker-webhook", "worker-slack", "worker-all"} {
		if _, err := os.Stat(filepath.Join(creds, name+".nk")); err != nil {
			t.Errorf("seed of %s: %v", name, err)
		}
	}
	hosts := natsauth.DefaultTLSHosts()
	for _, want := range []string{"nats-1", "nats-2", "nats-3", "localhost", "127.0.0.1"} {
		if !strings.Contains(strings.Join(hosts, " "), want) {
			t.Errorf("the default names %v lack %s", hosts, want)
		}
	}
	if err := natsauth.CheckServerCert(filepath.Join(tlsDir, natsauth.ServerCertFile), filepath.Join(tlsDir, natsauth.CAFile), hosts, time.Now()); err != nil {
		t.Errorf("the servers' certificate init made: %v", err)
	}

	ca, _ := os.ReadFile(filepath.Join(tlsDir, natsauth.CAFile))
	authConf, _ := os.ReadFile(conf)
	// The CA's key moved off the machine, as the documentation advises, is no reason to make
	// a new set.
	if err := os.Remove(filepath.Join(tlsDir, natsauth.CAKeyFile)); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCommand(args...)
	if code != 0 {
		t.Fatalf("init run again: exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "kept the TLS material") {
		t.Errorf("init run again did not say it kept the TLS material:\n%s", out)
	}
	if again, _ := os.ReadFile(filepath.Join(tlsDir, natsauth.CAFile)); !bytes.Equal(ca, again) {
		t.Error("init run again made a new CA: every client's trust would break")
	}
	if again, _ := os.ReadFile(conf); !bytes.Equal(authConf, again) {
		t.Error("init run again changed auth.conf: it made new seeds instead of keeping them")
	}
}

// TestEnsureDevTLSRefuses: what init finds and cannot use is reported with what to do,
// never silently replaced or kept: half a set, a certificate for other names, an expired one.
func TestEnsureDevTLSRefuses(t *testing.T) {
	t.Parallel()
	t.Run("half a set", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := natsauth.WriteDevTLS(dir, natsauth.DevTLS{}); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(dir, natsauth.ServerKeyFile)); err != nil {
			t.Fatal(err)
		}
		made, err := natsauth.EnsureDevTLS(dir, natsauth.DevTLS{})
		if err == nil || made || !strings.Contains(err.Error(), natsauth.ServerKeyFile) {
			t.Errorf("EnsureDevTLS without the servers' key: made %v, %v; want an error naming %s", made, err, natsauth.ServerKeyFile)
		}
		code, _, errOut := runCommand("init", "--creds", filepath.Join(dir, "creds"), "--conf", filepath.Join(dir, "auth.conf"), "--tls", dir)
		if code != 1 || !strings.Contains(errOut, "remove the TLS files") {
			t.Errorf("init over half a set: exit %d, %q", code, errOut)
		}
	})
	t.Run("other names", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if code, _, errOut := runCommand("tls", "--out", dir, "--host", "nats.example.internal"); code != 0 {
			t.Fatalf("tls: exit %d: %s", code, errOut)
		}
		_, err := natsauth.EnsureDevTLS(dir, natsauth.DevTLS{})
		if err == nil || !strings.Contains(err.Error(), "nats-1") {
			t.Errorf("a certificate for nats.example.internal kept for the compose nodes: %v", err)
		}
		if _, err := natsauth.EnsureDevTLS(dir, natsauth.DevTLS{Hosts: []string{"nats.example.internal"}}); err != nil {
			t.Errorf("the same certificate for its own name: %v", err)
		}
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := natsauth.WriteDevTLS(dir, natsauth.DevTLS{Valid: 24 * time.Hour}); err != nil {
			t.Fatal(err)
		}
		cert, ca := filepath.Join(dir, natsauth.ServerCertFile), filepath.Join(dir, natsauth.CAFile)
		if err := natsauth.CheckServerCert(cert, ca, natsauth.DefaultTLSHosts(), time.Now()); err != nil {
			t.Fatalf("a day-long certificate today: %v", err)
		}
		if err := natsauth.CheckServerCert(cert, ca, natsauth.DefaultTLSHosts(), time.Now().Add(48*time.Hour)); err == nil {
			t.Error("a certificate past its end passed")
		}
		other := t.TempDir()
		if err := natsauth.WriteDevTLS(other, natsauth.DevTLS{}); err != nil {
			t.Fatal(err)
		}
		if err := natsauth.CheckServerCert(cert, filepath.Join(other, natsauth.CAFile), natsauth.DefaultTLSHosts(), time.Now()); err == nil {
			t.Error("a certificate passed against a CA that did not sign it")
		}
	})
}
