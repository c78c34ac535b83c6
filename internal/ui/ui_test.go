package ui_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/ui"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	h := ui.Handler()
	for _, p := range ui.Patterns {
		mux.Handle(p, h)
	}
	// The API's sign-in endpoint, registered the way the API registers its paths: the
	// dashboard's GET /ui/login must still win for GET.
	mux.HandleFunc("/ui/login", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestServesPagesAndAssets(t *testing.T) {
	srv := newServer(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	tests := []struct {
		path     string
		status   int
		ctype    string
		contains string
	}{
		{"/ui/", 200, "text/html; charset=utf-8", `<script type="module" src="/ui/assets/app.js">`},
		{"/ui/login", 200, "text/html; charset=utf-8", `action="/ui/login"`},
		{"/ui/assets/app.js", 200, "text/javascript; charset=utf-8", "import"},
		{"/ui/assets/style.css", 200, "text/css; charset=utf-8", "prefers-color-scheme"},
		{"/ui/assets/vendor/uplot/uPlot.esm.js", 200, "text/javascript; charset=utf-8", "export"},
		{"/ui/assets/vendor/uplot/LICENSE", 200, "", "MIT"},
		{"/ui/assets/index.html", 404, "", ""},
		{"/ui/assets/nothing.js", 404, "", ""},
		{"/ui/nothing", 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, noRedirect, srv.URL+tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(body, tt.contains) {
				t.Errorf("body lacks %q", tt.contains)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
		})
	}

	resp, _ := get(t, noRedirect, srv.URL+"/")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d to %q, want 302 to /ui/", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, err := http.Post(srv.URL+"/ui/", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /ui/: %d, want 405", resp.StatusCode)
	}
	resp, err = http.Post(srv.URL+"/ui/login", "application/x-www-form-urlencoded", strings.NewReader("token=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTeapot {
		t.Errorf("POST /ui/login reached the dashboard (%d), not the API's handler", resp.StatusCode)
	}
}

func TestLoginPageSaysWhenRefused(t *testing.T) {
	srv := newServer(t)
	_, plain := get(t, http.DefaultClient, srv.URL+"/ui/login")
	_, refused := get(t, http.DefaultClient, srv.URL+"/ui/login?error=1")
	if strings.Contains(plain, "not accepted") || !strings.Contains(refused, "not accepted") {
		t.Errorf("the refusal shows on the plain page or not after a refusal:\n%s\n---\n%s", plain, refused)
	}
}

// The dashboard must work offline: the pages load nothing from another host, and every
// module a script imports is one of the embedded assets.
func TestAssetsAreSelfContained(t *testing.T) {
	root := "assets"
	external := regexp.MustCompile(`(?i)(src|href|action)\s*=\s*"(https?:)?//|url\(\s*['"]?(https?:)?//|@import`)
	imports := regexp.MustCompile(`(?m)^\s*import\s[^"']*["']([^"']+)["']`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		switch filepath.Ext(path) {
		case ".html", ".css":
			if m := external.Find(b); m != nil {
				t.Errorf("%s refers to another host: %s", path, m)
			}
		case ".js":
			for _, m := range imports.FindAllSubmatch(b, -1) {
				spec := string(m[1])
				if !strings.HasPrefix(spec, "./") {
					t.Errorf("%s imports %q, not an embedded module", path, spec)
					continue
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(path), spec)); err != nil {
					t.Errorf("%s imports %q, which is missing", path, spec)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
