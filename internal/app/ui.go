package app

import (
	"net"
	"net/http"

	"github.com/heraldhq/herald/internal/ui"
)

// mountUI puts the web dashboard on the process's HTTP server at /ui/, beside the API it is
// a client of, and logs where to open it.
func (p *Process) mountUI(mux *http.ServeMux) {
	h := ui.Handler()
	for _, pattern := range ui.Patterns {
		mux.Handle(pattern, h)
	}
	host, port, err := net.SplitHostPort(p.cfg.HTTPAddr)
	if err != nil {
		return
	}
	if port == "0" {
		return // a test's ephemeral port: the address is known only once served
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	// "/ui", not "/ui/": the log's URL masking drops a trailing path, and /ui leads to /ui/.
	p.log.Info("dashboard: open http://" + net.JoinHostPort(host, port) + "/ui")
}
