package api

import (
	"crypto/sha256"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

// Paths are the ServeMux patterns the API serves: path prefixes, and the two POST routes of
// the dashboard's browser sessions (whose GET pages the dashboard's own handler serves under
// /ui/). A process mounts the handler of New on each of them on its HTTP server, beside
// /metrics and the health endpoints.
var Paths = []string{"/v1/", "/admin/", "/openapi.json", "POST /ui/login", "POST /ui/logout"}

// Deps are what the API serves from. A nil service leaves its routes answering 503
// (unavailable), so that a process may run without, say, tenant destinations.
type Deps struct {
	// AdminToken is NOTIFICATIONS_ADMIN_TOKEN; empty turns the admin API off (every admin
	// request is a 401).
	AdminToken string
	// Keys stores tenant keys. Nil turns tenant keys off.
	Keys store.KeyStore

	// Destinations serves /v1/tenants/{tenant}/destinations and tenant test sends.
	Destinations control.Destinations
	// History serves the admin history, one delivery's detail and tenants' deliveries.
	History control.History
	// DeadLetters serves the dead list, redrive and discard.
	DeadLetters control.DeadLetters
	// Replays serves /admin/notifications/replays.
	Replays control.Replays
	// Status serves /admin/notifications/status.
	Status control.StatusReader
	// Tester serves test sends to a channel's operator destinations.
	Tester control.ChannelTester

	// Stats serves the dashboard's charts (GET /admin/notifications/stats).
	Stats control.StatsReader
	// Previews serves the previews of what a delivery's channel sends.
	Previews control.Previewer
	// Operator lists the operator's own destinations (GET /admin/destinations).
	Operator control.OperatorDestinations
	// Tenants lists the tenants that have destinations or keys (GET /admin/tenants). Nil
	// answers 503.
	Tenants store.TenantsStore

	// EventTypes are the event types the operator's templates and routes name, listed by
	// GET /v1/event-types beside the seed types. Patterns with wildcards are left out.
	EventTypes []string

	// Logger receives the causes of 500 answers. Defaults to discarding.
	Logger *slog.Logger
	// Now is the clock that resolves durations in since and until. Defaults to time.Now.
	Now func() time.Time
	// AuthFailures is how often a client IP may fail authentication once its burst is used
	// up. Defaults to one a second.
	AuthFailures rate.Limit
	// AuthFailureBurst is how many failures in a row a client IP may make before it is
	// slowed down. Defaults to 10.
	AuthFailureBurst int
}

// API is the HTTP API. Build it with New.
type API struct {
	deps      Deps
	keys      store.KeyStore
	adminHash []byte
	log       *slog.Logger
	now       func() time.Time
	failures  *failureLimiter
	sessions  *sessions // nil without an admin token
	mux       *http.ServeMux
	catalog   []EventType
}

// New builds the API over deps.
func New(deps Deps) *API {
	a := &API{deps: deps, keys: deps.Keys, log: deps.Logger, now: deps.Now, mux: http.NewServeMux()}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With(slog.String("component", "api"))
	if a.now == nil {
		a.now = time.Now
	}
	if deps.AdminToken != "" {
		h := sha256.Sum256([]byte(deps.AdminToken))
		a.adminHash = h[:]
	}
	every, burst := deps.AuthFailures, deps.AuthFailureBurst
	if every <= 0 {
		every = 1
	}
	if burst <= 0 {
		burst = 10
	}
	a.failures = newFailureLimiter(every, burst, a.now)
	a.sessions = newSessions(deps.AdminToken, a.now)
	a.catalog = catalog(deps.EventTypes)
	for _, rt := range routes {
		a.mux.Handle(rt.Method+" "+rt.Pattern, a.handler(rt))
	}
	return a
}

// ServeHTTP serves one request. A path or method the API does not know is answered in the
// error shape, as every other error is, rather than with the mux's plain text.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := a.mux.Handler(r); pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := a.mux.Handler(probe); pattern != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) == 0 {
		writeJSON(w, http.StatusNotFound, errorBody{notFound("no such path: " + r.URL.Path)})
		return
	}
	for _, m := range allowed {
		w.Header().Add("Allow", m)
	}
	writeJSON(w, http.StatusMethodNotAllowed, errorBody{&Error{Code: CodeMethodNotAllowed,
		Message: r.Method + " is not allowed here"}})
}

// handler wraps a route's function with its authentication and error answers.
func (a *API) handler(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, err := a.authenticate(r, rt.Access)
		if err == nil {
			err = rt.serve(a, w, r)
		}
		if err == nil {
			return
		}
		var limited *rateLimited
		if errors.As(err, &limited) {
			limited.write(w)
			return
		}
		a.writeError(w, r, err)
	})
}

// unavailable is the answer of a route whose service this process does not run.
func unavailable(what string) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
		Message: what + " are not available on this server"}
}
