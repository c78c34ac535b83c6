package pagerdutytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
)

// maxBody bounds how much of a request body the server reads: more than MaxEventBytes, so
// that an oversize event is seen as such.
const maxBody = 2 << 20

// PagerDuty throttles events per integration, adjusting the limit to the traffic, and answers
// 429 beyond it; the community figure is 120 events a minute per routing key. The fake models
// that as a token bucket per routing key.
// https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
const (
	// DefaultEvery is the default mean interval between events of one routing key.
	DefaultEvery = 500 * time.Millisecond
	// DefaultBurst is the default number of events one routing key takes back to back.
	DefaultBurst = 20
)

// Alert states, as PagerDuty's alerts have them.
const (
	Triggered    = "triggered"
	Acknowledged = "acknowledged"
	Resolved     = "resolved"
)

// Alert is what the fake keeps of an alert: the latest of its events, by routing key and
// dedup key, as PagerDuty groups them.
type Alert struct {
	RoutingKey string
	DedupKey   string
	// Status is Triggered, Acknowledged or Resolved.
	Status string
	// Triggers counts the trigger events the alert took while open (a trigger with the key
	// of an open alert adds to it instead of opening another).
	Triggers int
	// Summary and Severity are the latest trigger's.
	Summary, Severity string
}

// Accepted is one event the server accepted (answered 202).
type Accepted struct {
	// Event is the decoded event; Body is the request body as received.
	Event *Event
	Body  []byte
	// Time is when the server accepted it.
	Time time.Time
}

// Rejection is one request the server refused, whatever the reason.
type Rejection struct {
	// Err is what the server answered.
	Err Error
	// Body is the request body as received.
	Body []byte
	// Time is when the server answered.
	Time time.Time
}

// Failure is an answer to inject with Inject or FailNext, given before any check.
type Failure struct {
	// Status is the HTTP status to answer.
	Status int
	// Body is the response body, as is (PagerDuty's JSON error, or a proxy's HTML page).
	Body string
	// RetryAfter is the Retry-After header value, if any.
	RetryAfter string
}

// Option configures a Server.
type Option func(*Server)

// WithRateLimit sets each routing key's limit: one event per every on average, burst back to
// back. every <= 0 disables it. Defaults to DefaultEvery and DefaultBurst.
func WithRateLimit(every time.Duration, burst int) Option {
	return func(s *Server) { s.every, s.burst = every, max(burst, 1) }
}

// WithoutRateLimit disables the rate limit.
func WithoutRateLimit() Option { return WithRateLimit(0, 1) }

// WithRetryAfter makes the 429s of the rate limit carry a Retry-After header: PagerDuty does
// not document one, so by default they carry none.
func WithRetryAfter() Option { return func(s *Server) { s.retryAfter = true } }

// WithClock sets the clock the rate limit runs on. Defaults to time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a loopback fake of PagerDuty's Events API v2. All its methods are safe for
// concurrent use, including while requests arrive.
type Server struct {
	// URL is the server's base URL, standing in for https://events.pagerduty.com.
	URL string

	srv        *httptest.Server
	every      time.Duration
	burst      int
	retryAfter bool
	now        func() time.Time
	limit      *fakeprovider.Limiter // by routing key
	log        *fakeprovider.Log[Accepted, Rejection]
	inject     fakeprovider.Queue[Failure]

	mu     sync.Mutex        // held while a request is answered, so that each sees the keys and alerts as one
	keys   map[string]bool   // known routing keys
	alerts map[string]*Alert // by routing key + "\x00" + dedup key
}

// NewServer starts a fake PagerDuty that is closed when the test ends. It knows no routing
// keys until NewRoutingKey registers them.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		every:  DefaultEvery,
		burst:  DefaultBurst,
		now:    time.Now,
		log:    fakeprovider.NewLog[Accepted, Rejection]("pagerdutytest", "events"),
		keys:   make(map[string]bool),
		alerts: make(map[string]*Alert),
	}
	for _, o := range opts {
		o(s)
	}
	s.limit = fakeprovider.NewLimiter(s.every, s.burst)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down, waiting for requests in flight. It is called when the test
// ends.
func (s *Server) Close() { s.srv.Close() }

// NewRoutingKey registers an Events API v2 integration and returns its routing key: 32
// alphanumeric characters.
func (s *Server) NewRoutingKey() string {
	key := fakeprovider.Random(fakeprovider.Alnum, RoutingKeyLen)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key] = true
	s.limit.Add(key, s.now())
	return key
}

// FailNext makes the server answer the next request with status and body (as is), before any
// check; calls queue up, and are answered in order.
func (s *Server) FailNext(status int, body string) { s.Inject(Failure{Status: status, Body: body}) }

// Inject queues one failure, as FailNext does, with full control of the answer.
func (s *Server) Inject(f Failure) { s.inject.Push(f) }

// Events returns the accepted events in arrival order.
func (s *Server) Events() []Accepted { return s.log.Accepted() }

// Rejected returns the refused requests in arrival order.
func (s *Server) Rejected() []Rejection { return s.log.Rejected() }

// Requests returns how many requests the server has answered.
func (s *Server) Requests() int { return s.log.Requests() }

// Alert returns the alert of a routing key and dedup key.
func (s *Server) Alert(routingKey, dedupKey string) (Alert, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.alerts[routingKey+"\x00"+dedupKey]
	if !ok {
		return Alert{}, false
	}
	return *a, true
}

// Alerts returns every alert of a routing key, ordered by dedup key.
func (s *Server) Alerts(routingKey string) []Alert {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Alert
	for _, a := range s.alerts {
		if a.RoutingKey == routingKey {
			out = append(out, *a)
		}
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.DedupKey, b.DedupKey) })
	return out
}

// WaitForEvents waits until at least n events have been accepted and returns them, failing
// the test if that has not happened within timeout. It wakes on every answered request
// rather than polling.
func (s *Server) WaitForEvents(t testing.TB, n int, timeout time.Duration) []Accepted {
	t.Helper()
	return s.log.WaitFor(t, n, timeout)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	reject := func(e *Error, header map[string]string) {
		s.log.Reject(Rejection{Err: *e, Body: body, Time: now})
		for k, v := range header {
			w.Header().Set(k, v)
		}
		e.Write(w)
	}
	if readErr != nil {
		reject(unrecognized(), nil)
		return
	}
	if f, ok := s.inject.Pop(); ok {
		s.log.Reject(Rejection{Err: Error{HTTPStatus: f.Status, Status: "injected", Message: f.Body}, Body: body, Time: now})
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		if json.Valid([]byte(f.Body)) {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	ev, err := CheckRequest(r, body)
	if err != nil {
		reject(err.(*Error), nil)
		return
	}
	if !s.keys[ev.RoutingKey] {
		// A well-formed key of no integration. Users report PagerDuty's 400 "Invalid routing
		// key" for it (https://github.com/robusta-dev/robusta/issues/571).
		reject(invalid("Invalid routing key"), nil)
		return
	}
	if wait := s.limit.Take(ev.RoutingKey, now); wait > 0 {
		// https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
		// documents the 429 but not its body; this is the wording of PagerDuty's throttle
		// answer as its Events API v1 gave it.
		var hdr map[string]string
		if s.retryAfter {
			hdr = map[string]string{"Retry-After": strconv.Itoa(fakeprovider.RetryAfter(wait))}
		}
		reject(&Error{HTTPStatus: http.StatusTooManyRequests, Status: "throttle event",
			Message: "Requests for this service are arriving too quickly.  Please retry later."}, hdr)
		return
	}
	s.apply(ev)
	s.log.Accept(Accepted{Event: ev, Body: body, Time: now})
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ (202 Accepted)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
}

// apply updates the alerts as PagerDuty does: a trigger opens an alert or, while one with its
// dedup key is open, adds to it; acknowledge and resolve change an open alert and are ignored
// for a key with none. A trigger without a dedup key gets a new one.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
// https://developer.pagerduty.com/docs/events-api-v2/resolve-events/
func (s *Server) apply(ev *Event) {
	if ev.DedupKey == "" {
		ev.DedupKey = randomKey()
	}
	key := ev.RoutingKey + "\x00" + ev.DedupKey
	a := s.alerts[key]
	open := a != nil && a.Status != Resolved
	switch ev.EventAction {
	case "trigger":
		if !open {
			a = &Alert{RoutingKey: ev.RoutingKey, DedupKey: ev.DedupKey}
			s.alerts[key] = a
		}
		a.Status, a.Triggers = Triggered, a.Triggers+1
		a.Summary, a.Severity = ev.Payload.Summary, ev.Payload.Severity
	case "acknowledge":
		if open {
			a.Status = Acknowledged
		}
	case "resolve":
		if open {
			a.Status = Resolved
		}
	}
}

// WriteAccepted answers w as PagerDuty answers an accepted event: the given 2xx status and
// {"status":"success","message":"Event processed"}. It is the Accept of the channel
// conformance suite, which serves requests itself.
func WriteAccepted(w http.ResponseWriter, _ *http.Request, status int) {
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"status":"success","message":"Event processed"}`+"\n")
}

// randomKey returns a dedup key as PagerDuty makes one for a trigger without: 32 hexadecimal
// digits.
func randomKey() string { return fakeprovider.Random(fakeprovider.Hex, 32) }
