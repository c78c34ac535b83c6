package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/natsauth"
)

// TestNATSCredentialsAndTLS: the credentials and TLS files are checked at start, and a
// mistake names its variable without quoting a file's contents.
func TestNATSCredentialsAndTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := natsauth.WriteSeed(dir, natsauth.Role{Kind: natsauth.Dispatcher}); err != nil {
		t.Fatal(err)
	}
	seed := natsauth.SeedFile(dir, natsauth.Role{Kind: natsauth.Dispatcher})
	notSeed := filepath.Join(dir, "not-a-seed")
	if err := os.WriteFile(notSeed, []byte("hunter2-not-a-seed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pem := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(pem, []byte("-----BEGIN CERTIFICATE-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(getenv(map[string]string{"NOTIFICATIONS_NATS_CREDS": seed, "NOTIFICATIONS_NATS_TLS_CA": pem,
		"NOTIFICATIONS_NATS_TLS_CERT": pem, "NOTIFICATIONS_NATS_TLS_KEY": pem}), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.NATSCreds != seed || c.NATSTLSCA != pem || c.NATSTLSCert != pem || c.NATSTLSKey != pem {
		t.Errorf("loaded %q %q %q %q", c.NATSCreds, c.NATSTLSCA, c.NATSTLSCert, c.NATSTLSKey)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"NOTIFICATIONS_NATS_CREDS": filepath.Join(dir, "missing.nk")}, "NOTIFICATIONS_NATS_CREDS"},
		{map[string]string{"NOTIFICATIONS_NATS_CREDS": notSeed}, "NOTIFICATIONS_NATS_CREDS"},
		{map[string]string{"NOTIFICATIONS_NATS_TLS_CA": filepath.Join(dir, "missing.pem")}, "NOTIFICATIONS_NATS_TLS_CA"},
		{map[string]string{"NOTIFICATIONS_NATS_TLS_CERT": pem}, "NOTIFICATIONS_NATS_TLS_CERT"},
		{map[string]string{"NOTIFICATIONS_NATS_TLS_KEY": pem}, "NOTIFICATIONS_NATS_TLS_CERT"},
	} {
		_, err := Load(getenv(tc.env), "")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want+":") {
			t.Errorf("%v: %v, want an error naming %s", tc.env, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%v: the error quotes the file: %v", tc.env, err)
		}
	}
}
