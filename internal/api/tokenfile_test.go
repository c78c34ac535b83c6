package api_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/heraldhq/herald/internal/api"
)

func TestAdminTokenFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	token, path, created, err := api.LoadOrCreateAdminToken(dir)
	if err != nil || !created {
		t.Fatalf("first start: created=%t err=%v", created, err)
	}
	if path != filepath.Join(dir, "admin.token") || len(token) < 40 {
		t.Errorf("path %s, token of %d characters", path, len(token))
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", info.Mode().Perm())
	}
	again, _, created, err := api.LoadOrCreateAdminToken(dir)
	if err != nil || created || again != token {
		t.Errorf("restart: token kept %t, created=%t, err=%v", again == token, created, err)
	}
	// A file the operator emptied is an error, not silently replaced.
	if err := os.WriteFile(path, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := api.LoadOrCreateAdminToken(dir); err == nil || !strings.Contains(err.Error(), "holds no token") {
		t.Errorf("empty file: err = %v", err)
	}
}

// TestAdminTokenFileRace starts several processes' worth of callers at once on an empty
// directory: they all end up with the one token that was written.
func TestAdminTokenFileRace(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 8
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, _, _, err := api.LoadOrCreateAdminToken(dir)
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			tokens[i] = tok
		}()
	}
	wg.Wait()
	b, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		if tok != strings.TrimSpace(string(b)) {
			t.Errorf("caller %d got another token than the file's", i)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, ".admin.token.*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}
