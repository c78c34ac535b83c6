package secretbox

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data", "herald") // not there yet
	value, created, err := LoadOrCreateKeyFile(dir)
	if err != nil {
		t.Fatalf("first call: %v", err)
	}
	if !created {
		t.Error("first call did not report creating the file")
	}
	r := newRing(t, value)
	if n := len(r.IDs()); n != 1 {
		t.Errorf("new file holds %d keys, want 1", n)
	}

	path := filepath.Join(dir, KeyFileName)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("key file mode %o, want 600", mode)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("data directory holds %d entries, want only %s (a temporary file left behind?)", len(entries), KeyFileName)
	}

	again, created, err := LoadOrCreateKeyFile(dir)
	if err != nil {
		t.Fatalf("second call: %v", err)
	}
	if created || again != value {
		t.Fatalf("second call: created %v, same key %v; want the existing key reused", created, again == value)
	}
}

func TestLoadOrCreateKeyFileReadsExisting(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	cases := []struct {
		name    string
		content string
		want    string
	}{
		{"with newline", k1 + "\n", k1},
		{"rotated list", k1 + "," + k2 + "\n", k1 + "," + k2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, KeyFileName), []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, created, err := LoadOrCreateKeyFile(dir)
			if err != nil || created || got != tc.want {
				t.Fatalf("LoadOrCreateKeyFile = %q, %v, %v; want the file's keys, false, nil", got, created, err)
			}
		})
	}
}

func TestLoadOrCreateKeyFileCorrupt(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"not base64", "this is not a key at all\n"},
		{"short key", "c2l4dGVlbiBieXRlIGtleQ==\n"},
		{"truncated", newKey(t)[:20]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, KeyFileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateKeyFile(dir)
			if !errors.Is(err, ErrInvalidKeys) {
				t.Fatalf("err = %v, want ErrInvalidKeys", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			if c := strings.TrimSpace(tc.content); c != "" && strings.Contains(err.Error(), c) {
				t.Errorf("error %q contains the file's content", err)
			}
			after, err := os.ReadFile(path)
			if err != nil || string(after) != tc.content {
				t.Errorf("corrupt key file was changed: %q, %v", after, err)
			}
		})
	}
}

// Two processes starting on one data directory must end up with one key, or secrets
// sealed by the loser would be unreadable after a restart.
func TestLoadOrCreateKeyFileConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const n = 8
	values := make([]string, n)
	createdBy := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { values[i], createdBy[i], errs[i] = LoadOrCreateKeyFile(dir) })
	}
	wg.Wait()
	creators := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if values[i] != values[0] {
			t.Fatalf("call %d got a different key from call 0", i)
		}
		if createdBy[i] {
			creators++
		}
	}
	if creators != 1 {
		t.Fatalf("%d calls reported creating the file, want 1", creators)
	}
	onDisk, _, err := LoadOrCreateKeyFile(dir)
	if err != nil || onDisk != values[0] {
		t.Fatalf("the file holds another key than the callers got (err %v)", err)
	}
}
