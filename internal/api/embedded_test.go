package api_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
)

// lockedBuffer collects a process's log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestEmbeddedDefaultAdminToken runs the single-machine default (embedded NATS, SQLite, no
// NOTIFICATIONS_ADMIN_TOKEN) twice on one data directory: the first start generates the
// admin token into admin.token (0600) and logs the file's path, never the token; the token
// works; the second start keeps it.
func TestEmbeddedDefaultAdminToken(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	env := map[string]string{
		"NOTIFICATIONS_DATA_DIR":           dataDir,
		"NOTIFICATIONS_EMBEDDED_NATS_ADDR": "127.0.0.1:0",
		"NOTIFICATIONS_HTTP_ADDR":          "127.0.0.1:0",
		"NOTIFICATIONS_LOG_FORMAT":         "json",
	}
	start := func() (*app.Process, *lockedBuffer) {
		t.Helper()
		cfg, err := config.Load(func(k string) string { return env[k] }, "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		logs := &lockedBuffer{}
		log := obs.NewLogger(obs.LogConfig{Level: "info", Format: "json", Out: logs})
		p, err := app.Start(context.Background(), cfg, app.Role{Name: "herald", Dispatcher: true, Channels: []string{"all"},
			EmbeddedNATS: true, Parts: parts.All()}, log)
		if err != nil {
			t.Fatalf("start: %v\n%s", err, logs)
		}
		return p, logs
	}
	get := func(p *app.Process, token string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+p.HTTPAddr()+"/admin/notifications/status", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	p, logs := start()
	path := filepath.Join(dataDir, "admin.token")
	b, err := os.ReadFile(path)
	if err != nil {
		p.Stop()
		t.Fatalf("no admin token file: %v\n%s", err, logs)
	}
	token := strings.TrimSpace(string(b))
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("admin.token: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	if !strings.Contains(logs.String(), path) {
		t.Errorf("the log does not say where the token is:\n%s", logs)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the log shows the token")
	}
	if s := get(p, token); s != 200 {
		t.Errorf("with the generated token: %d, want 200", s)
	}
	if s := get(p, ""); s != 401 {
		t.Errorf("without a token: %d, want 401", s)
	}
	p.Stop()

	p, logs = start()
	defer p.Stop()
	if s := get(p, token); s != 200 {
		t.Errorf("after a restart, the first token: %d, want 200", s)
	}
	if strings.Contains(logs.String(), token) {
		t.Errorf("the log shows the token")
	}
}

// TestAdminTokenNotGeneratedOnACluster checks that a dispatcher pointed at a NATS server
// (not the embedded default) generates no token: with no NOTIFICATIONS_ADMIN_TOKEN its admin
// API is off.
func TestAdminTokenNotGeneratedOnACluster(t *testing.T) {
	t.Parallel()
	f := startFleetAPI(t, map[string]string{"NOTIFICATIONS_ADMIN_TOKEN": ""})
	req, _ := http.NewRequest("GET", f.base+"/admin/notifications/status", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("admin API with no token configured: %d, want 401", resp.StatusCode)
	}
}
