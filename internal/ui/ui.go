package ui

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var embedded embed.FS

// assets are the files under assets/, served at /ui/assets/.
var assets = func() fs.FS {
	sub, err := fs.Sub(embedded, "assets")
	if err != nil {
		panic(err) // the directory is embedded above: its absence is a build mistake
	}
	return sub
}()

// Patterns are the ServeMux patterns a process mounts the Handler on, beside the API's
// paths. GET /ui/login is named on its own so that it wins over the API's POST /ui/login
// whichever way that one is registered, and GET / sends a visitor to the dashboard.
var Patterns = []string{"/ui/", "GET /ui/login", "GET /{$}"}

// contentSecurityPolicy keeps every page to this server's own scripts, styles and API:
// nothing is loaded from elsewhere, and a rendered preview (an email's HTML in a sandboxed
// frame) can neither run script nor reach the network. Inline styles are allowed because
// the chart library sizes its canvas with them and emails carry them.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the dashboard: the application's page at /ui/, the sign-in page at
// /ui/login and the embedded assets at /ui/assets/. It needs no credential: the pages hold
// no data, and what they show comes from the API, which checks the session.
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

// started stands in for the assets' modification time (embedded files have none): a
// browser revalidates against it, and a new process, maybe with new assets, changes it.
var started = time.Now()

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// Not no-referrer: under it Chromium sends "Origin: null" with the sign-in form, and
	// the API refuses a form whose Origin is not its own.
	h.Set("Referrer-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == "/":
		http.Redirect(w, r, "/ui/", http.StatusFound)
	case p == "/ui/" || p == "/ui/index.html":
		servePage(w, r, "index.html", nil)
	case p == "/ui/login":
		servePage(w, r, "login.html", loginView{Error: r.URL.Query().Get("error")})
	case strings.HasPrefix(p, "/ui/assets/"):
		serveAsset(w, r, strings.TrimPrefix(p, "/ui/assets/"))
	default:
		http.NotFound(w, r)
	}
}

// loginView is what the sign-in page shows.
type loginView struct {
	// Error says why the last sign-in was refused: POST /ui/login sends the browser back
	// with ?error=1 for a wrong credential and ?error=rate_limited when this address
	// failed too often.
	Error string
}

// pages are the HTML pages, parsed once; they are templates only so that the sign-in page
// can say that a sign-in failed without a script.
var pages = template.Must(template.ParseFS(assets, "*.html"))

func servePage(w http.ResponseWriter, r *http.Request, name string, view any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, view); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// A page is small and names its assets; always asking keeps an upgrade visible at once.
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, started, bytes.NewReader(buf.Bytes()))
}

func serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	name = path.Clean(name)
	if name == "." || strings.HasPrefix(name, "..") || strings.HasSuffix(name, ".html") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(assets, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if ct, ok := contentTypes[path.Ext(name)]; ok {
		w.Header().Set("Content-Type", ct)
	}
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, started, bytes.NewReader(b))
}

// contentTypes are the types of the embedded assets, fixed here rather than taken from
// the system's MIME tables, which differ between machines (a module script served as
// text/plain does not run).
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
	".txt": "text/plain; charset=utf-8",
}
