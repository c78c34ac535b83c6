package teamstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
)

// maxBody bounds how much of a request body the server reads.
const maxBody = 16 << 20

// A webhook is throttled beyond 4 requests a second.
// https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#rate-limiting-for-connectors
const (
	// DefaultEvery is the default mean interval between messages to one workflow.
	DefaultEvery = 250 * time.Millisecond
	// DefaultBurst is the default number of messages one workflow takes back to back.
	DefaultBurst = 4
)

// The query a workflow URL carries besides its signature, as Power Automate writes it.
// https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook
const (
	apiVersion = "2016-06-01"
	triggerSP  = "/triggers/manual/run"
)

// Message is one message the server accepted.
type Message struct {
	// Workflow is the name given to NewWorkflow.
	Workflow string
	// Body is the request body as received.
	Body []byte
	// Payload is the decoded body, with its Warnings.
	Payload *Payload
	// Time is when the server accepted it.
	Time time.Time
}

// Rejection is one request the server refused, whatever the reason: a wrong URL, an invalid
// card, the rate limit, an injected failure.
type Rejection struct {
	// Workflow is the workflow's name, or "" if the path named none.
	Workflow string
	// Status and Code are what the server answered.
	Status int
	Code   string
	// Reason says why, for test output.
	Reason string
	// Body is the request body as received.
	Body []byte
	// Time is when the server answered.
	Time time.Time
}

// Failure is an answer to inject with Inject.
type Failure struct {
	// Status is the HTTP status to answer.
	Status int
	// Code and Message fill the Logic Apps error body; both empty sends Body instead.
	Code, Message string
	// Body is a raw body (an HTML error page from a gateway, say), used when Code and
	// Message are empty.
	Body string
	// RetryAfter is the Retry-After header value; for a 429 it defaults to "1".
	RetryAfter string
}

// Option configures a Server.
type Option func(*Server)

// WithRateLimit sets each workflow's rate limit: one message per every on average, burst
// back to back. every <= 0 disables the limit. Defaults to DefaultEvery and DefaultBurst.
func WithRateLimit(every time.Duration, burst int) Option {
	return func(s *Server) { s.every, s.burst = every, max(burst, 1) }
}

// WithoutRateLimit disables the rate limit.
func WithoutRateLimit() Option { return WithRateLimit(0, 1) }

// WithClock sets the clock the rate limit runs on. Defaults to time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a loopback fake of Teams Workflows webhooks. All its methods are safe for
// concurrent use, including while requests arrive.
type Server struct {
	// URL is the server's base URL, standing in for https://prod-00.westus.logic.azure.com:443.
	URL string

	srv    *httptest.Server
	every  time.Duration
	burst  int
	now    func() time.Time
	limit  *fakeprovider.Limiter // by workflow id
	log    *fakeprovider.Log[Message, Rejection]
	inject fakeprovider.Queue[Failure]

	mu    sync.Mutex           // held while a request is answered, so that each sees the workflows as one
	flows map[string]*workflow // by id
}

// workflow is one registered workflow.
type workflow struct {
	name    string
	sig     string
	removed bool
}

// NewServer starts a fake Teams that is closed when the test ends. It knows no workflows
// until NewWorkflow registers them.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		every: DefaultEvery,
		burst: DefaultBurst,
		now:   time.Now,
		log:   fakeprovider.NewLog[Message, Rejection]("teamstest", "messages"),
		flows: make(map[string]*workflow),
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

// NewWorkflow registers a workflow with the given name and returns its URL, shaped as Power
// Automate's: <URL>/workflows/<id>/triggers/manual/paths/invoke?api-version=…&sp=…&sv=1.0&sig=….
func (s *Server) NewWorkflow(name string) string {
	id, sig := fakeprovider.Random(fakeprovider.Hex, 32), fakeprovider.Random(fakeprovider.URLSafe, 43)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flows[id] = &workflow{name: name, sig: sig}
	s.limit.Add(id, s.now())
	q := url.Values{"api-version": {apiVersion}, "sp": {triggerSP}, "sv": {"1.0"}, "sig": {sig}}
	return s.URL + "/workflows/" + id + "/triggers/manual/paths/invoke?" + q.Encode()
}

// RemoveWorkflow makes the workflow at rawURL answer 404 WorkflowNotFound, as a deleted or
// turned-off flow does.
func (s *Server) RemoveWorkflow(rawURL string) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return
	}
	id, ok := workflowID(u.Path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.flows[id]; ok && f != nil {
		f.removed = true
	}
}

// Inject queues one failure: the next request to a valid workflow URL is answered with it,
// before any check of the body; calls queue up.
func (s *Server) Inject(f Failure) {
	if f.Status == http.StatusTooManyRequests && f.RetryAfter == "" {
		f.RetryAfter = "1"
	}
	s.inject.Push(f)
}

// Messages returns the accepted messages in arrival order.
func (s *Server) Messages() []Message { return s.log.Accepted() }

// Rejected returns the refused requests in arrival order.
func (s *Server) Rejected() []Rejection { return s.log.Rejected() }

// Requests returns how many requests the server has answered.
func (s *Server) Requests() int { return s.log.Requests() }

// WaitForMessages waits until at least n messages have been accepted and returns them,
// failing the test if that has not happened within timeout. It wakes on every answered
// request rather than polling.
func (s *Server) WaitForMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	return s.log.WaitFor(t, n, timeout)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	reject := func(name string, e *APIError, header map[string]string) {
		s.log.Reject(Rejection{Workflow: name, Status: e.Status, Code: e.Code, Reason: e.Error(), Body: body, Time: now})
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(e.Status)
		_, _ = w.Write(e.Body())
	}
	if err != nil {
		reject("", &APIError{Status: http.StatusBadRequest, Code: CodeInvalidCard, Message: "read body: " + err.Error()}, nil)
		return
	}

	// Workflow URLs are /workflows/<id>/triggers/manual/paths/invoke with the api-version and
	// the shared-access signature in the query; the signature is checked before anything else.
	// https://learn.microsoft.com/en-us/azure/logic-apps/logic-apps-securing-a-logic-app#generate-shared-access-signatures-sas
	id, ok := workflowID(r.URL.Path)
	f := s.flows[id]
	q := r.URL.Query()
	switch {
	case !ok || f == nil || f.removed:
		reject("", &APIError{Status: http.StatusNotFound, Code: CodeWorkflowNotFound, Message: "The workflow could not be found."}, nil)
		return
	case q.Get("api-version") == "":
		reject(f.name, &APIError{Status: http.StatusBadRequest, Code: CodeMissingAPIVersion,
			Message: "The api-version query parameter (?api-version=) is required for all requests."}, nil)
		return
	case q.Get("sig") == "":
		reject(f.name, &APIError{Status: http.StatusUnauthorized, Code: CodeAuthorizationRequired,
			Message: "The request must be authenticated only by Shared Access scheme."}, nil)
		return
	case q.Get("sig") != f.sig:
		reject(f.name, &APIError{Status: http.StatusUnauthorized, Code: CodeInvalidSignature,
			Message: "The provided authorization signature is not valid."}, nil)
		return
	}
	if in, ok := s.inject.Pop(); ok {
		s.injected(w, f.name, in, body, now)
		return
	}
	if err := CheckRequest(r, body); err != nil {
		e, ok := err.(*APIError)
		if !ok {
			e = &APIError{Status: http.StatusBadRequest, Code: CodeInvalidCard, Message: err.Error()}
		}
		reject(f.name, e, nil)
		return
	}
	if wait := s.limit.Take(id, now); wait > 0 {
		reject(f.name, &APIError{Status: http.StatusTooManyRequests, Code: CodeThrottled,
			Message: "The workflow's rate limit is exhausted; retry after the delay in the Retry-After header."},
			map[string]string{"Retry-After": strconv.Itoa(fakeprovider.RetryAfter(wait))})
		return
	}
	p, _ := ValidatePayload(body)
	s.log.Accept(Message{Workflow: f.name, Body: body, Payload: p, Time: now})
	// A workflow's webhook trigger answers 202 Accepted with no body; the flow then runs.
	// https://learn.microsoft.com/en-us/connectors/teams/?tabs=text1#microsoft-teams-webhook
	w.WriteHeader(http.StatusAccepted)
}

// injected answers an injected failure and records it.
func (s *Server) injected(w http.ResponseWriter, name string, in Failure, body []byte, now time.Time) {
	s.log.Reject(Rejection{Workflow: name, Status: in.Status, Code: in.Code, Reason: "injected failure", Body: body, Time: now})
	if in.RetryAfter != "" {
		w.Header().Set("Retry-After", in.RetryAfter)
	}
	if in.Code == "" && in.Message == "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(in.Status)
		_, _ = io.WriteString(w, in.Body)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(in.Status)
	_, _ = w.Write((&APIError{Status: in.Status, Code: in.Code, Message: in.Message}).Body())
}

// workflowID parses /workflows/<id>/triggers/manual/paths/invoke into its id.
func workflowID(p string) (string, bool) {
	rest, ok := strings.CutPrefix(p, "/workflows/")
	if !ok {
		return "", false
	}
	id, tail, ok := strings.Cut(rest, "/")
	if !ok || id == "" || tail != "triggers/manual/paths/invoke" {
		return "", false
	}
	return id, true
}
