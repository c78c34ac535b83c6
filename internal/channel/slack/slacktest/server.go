package slacktest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
)

// maxBody bounds how much of a request body the server reads.
const maxBody = 16 << 20

// Slack allows an incoming webhook about one message per second, with short bursts above it.
// https://api.slack.com/apis/rate-limits (incoming webhooks)
const (
	// DefaultEvery is the default mean interval between messages to one webhook.
	DefaultEvery = time.Second
	// DefaultBurst is the default number of messages one webhook takes back to back.
	DefaultBurst = 3
)

// Message is one message the server accepted.
type Message struct {
	// Channel is the Slack channel of the webhook it was posted to (see NewWebhook).
	Channel string
	// Body is the request body as received.
	Body []byte
	// Payload is the decoded body, with its Warnings.
	Payload *Payload
	// Time is when the server accepted it.
	Time time.Time
}

// Rejection is one request the server refused, whatever the reason: a wrong path, an invalid
// payload, the rate limit, an injected failure.
type Rejection struct {
	// Channel is the webhook's channel, or "" if the path named no webhook.
	Channel string
	// Status and Code are what the server answered (Code is the plain-text body).
	Status int
	Code   string
	// Reason says why, for test output.
	Reason string
	// Body is the request body as received.
	Body []byte
	// Time is when the server answered.
	Time time.Time
}

// Failure is an answer to inject with FailNext or Inject.
type Failure struct {
	// Status is the HTTP status to answer.
	Status int
	// Body is the plain-text body (a Slack error code such as "channel_not_found").
	Body string
	// RetryAfter is the Retry-After header value; for a 429 it defaults to "1".
	RetryAfter string
}

// Option configures a Server.
type Option func(*Server)

// WithRateLimit sets each webhook's rate limit: one message per every on average, burst back
// to back. every <= 0 disables the limit. Defaults to DefaultEvery and DefaultBurst.
func WithRateLimit(every time.Duration, burst int) Option {
	return func(s *Server) { s.every, s.burst = every, max(burst, 1) }
}

// WithoutRateLimit disables the rate limit.
func WithoutRateLimit() Option { return WithRateLimit(0, 1) }

// WithClock sets the clock the rate limit runs on. Defaults to time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a loopback fake of Slack's incoming webhooks. All its methods are safe for
// concurrent use, including while requests arrive.
type Server struct {
	// URL is the server's base URL, standing in for https://hooks.slack.com.
	URL string

	srv    *httptest.Server
	every  time.Duration
	burst  int
	now    func() time.Time
	limit  *fakeprovider.Limiter // by "T…/B…"
	log    *fakeprovider.Log[Message, Rejection]
	inject fakeprovider.Queue[Failure]

	mu    sync.Mutex       // held while a request is answered, so that each sees the hooks as one
	hooks map[string]*hook // by "T…/B…"
}

// hook is one registered incoming webhook.
type hook struct {
	channel  string
	secret   string
	archived bool
	removed  bool
}

// NewServer starts a fake Slack that is closed when the test ends. It knows no webhooks until
// NewWebhook registers them.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		every: DefaultEvery,
		burst: DefaultBurst,
		now:   time.Now,
		log:   fakeprovider.NewLog[Message, Rejection]("slacktest", "messages"),
		hooks: make(map[string]*hook),
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

// NewWebhook registers an incoming webhook that posts to the named Slack channel and returns
// its URL, shaped as Slack's: <URL>/services/T…/B…/<secret>.
// https://api.slack.com/messaging/webhooks#create_a_webhook
func (s *Server) NewWebhook(slackChannel string) string {
	team, bot := "T"+fakeprovider.Random(fakeprovider.UpperDigits, 8), "B"+fakeprovider.Random(fakeprovider.UpperDigits, 10)
	secret := fakeprovider.Random(fakeprovider.Alnum, 24)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks[team+"/"+bot] = &hook{channel: slackChannel, secret: secret}
	s.limit.Add(team+"/"+bot, s.now())
	return s.URL + "/services/" + team + "/" + bot + "/" + secret
}

// ArchiveChannel makes every webhook of the named channel answer 410 channel_is_archived.
func (s *Server) ArchiveChannel(slackChannel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hooks {
		if h.channel == slackChannel {
			h.archived = true
		}
	}
}

// RemoveWebhook makes the webhook at url answer 404 no_service, as Slack does once a webhook
// is removed or its app uninstalled.
func (s *Server) RemoveWebhook(url string) {
	key, _, ok := splitPath(strings.TrimPrefix(url, s.URL))
	s.mu.Lock()
	defer s.mu.Unlock()
	if h := s.hooks[key]; ok && h != nil {
		h.removed = true
	}
}

// FailNext makes the server answer the next request to a valid webhook with status and a
// plain-text body, before any payload check; calls queue up.
func (s *Server) FailNext(status int, body string) { s.Inject(Failure{Status: status, Body: body}) }

// Inject queues one failure, as FailNext does, with full control of the answer.
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
	reject := func(ch string, status int, code, reason string, header map[string]string) {
		s.log.Reject(Rejection{Channel: ch, Status: status, Code: code, Reason: reason, Body: body, Time: now})
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, code)
	}
	if err != nil {
		reject("", http.StatusBadRequest, CodeInvalidPayload, "read body: "+err.Error(), nil)
		return
	}

	// Webhook URLs are /services/T…/B…/<secret>: an unknown webhook is no_service (404), a
	// known one with the wrong secret invalid_token (403).
	// https://api.slack.com/messaging/webhooks#handling_errors
	key, secret, ok := splitPath(r.URL.Path)
	h := s.hooks[key]
	switch {
	case !ok || h == nil || h.removed:
		reject("", http.StatusNotFound, CodeNoService, "no webhook at this path", nil)
		return
	case secret != h.secret:
		reject(h.channel, http.StatusForbidden, CodeInvalidToken, "wrong webhook secret", nil)
		return
	}
	if f, ok := s.inject.Pop(); ok {
		var hdr map[string]string
		if f.RetryAfter != "" {
			hdr = map[string]string{"Retry-After": f.RetryAfter}
		}
		reject(h.channel, f.Status, f.Body, "injected failure", hdr)
		return
	}
	if h.archived {
		// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
		reject(h.channel, http.StatusGone, CodeArchived, "channel archived", nil)
		return
	}
	if err := CheckRequest(r, body); err != nil {
		reject(h.channel, http.StatusBadRequest, errorCode(err), err.Error(), nil)
		return
	}
	if wait := s.limit.Take(key, now); wait > 0 {
		// https://api.slack.com/apis/rate-limits: 429 with Retry-After in seconds.
		reject(h.channel, http.StatusTooManyRequests, CodeRateLimited, "rate limited",
			map[string]string{"Retry-After": strconv.Itoa(fakeprovider.RetryAfter(wait))})
		return
	}
	p, _ := ValidatePayload(body)
	s.log.Accept(Message{Channel: h.channel, Body: body, Payload: p, Time: now})
	// Slack answers a posted message with 200 and the body "ok".
	// https://api.slack.com/messaging/webhooks#posting_with_webhooks
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// splitPath parses /services/T…/B…/<secret> into its "T…/B…" key and secret.
func splitPath(p string) (key, secret string, ok bool) {
	rest, found := strings.CutPrefix(p, "/services/")
	if !found {
		return "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "T") || !strings.HasPrefix(parts[1], "B") || parts[2] == "" {
		return "", "", false
	}
	return parts[0] + "/" + parts[1], parts[2], true
}
