package discordtest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// maxBody bounds how much of a request the server reads. Discord caps request bodies
	// (with uploads) far above anything a JSON message can legitimately reach.
	maxBody = 8 << 20

	// DefaultBucketSize and DefaultBucketWindow are the per-webhook rate limit the server
	// enforces unless told otherwise: about 5 requests per 2 seconds, as Discord applies to
	// webhook executions. Discord does not document the numbers and says clients should read
	// the headers instead, so tests must not depend on them either.
	// https://discord.com/developers/docs/topics/rate-limits#rate-limits
	DefaultBucketSize   = 5
	DefaultBucketWindow = 2 * time.Second

	// bucketHash is the X-RateLimit-Bucket value. Discord's bucket ids leave out the
	// top-level resource (the webhook id), so every webhook reports the same one.
	// https://discord.com/developers/docs/topics/rate-limits#header-format
	bucketHash = "b1e5a3c0f0d4c2e7"
)

// Option changes a Server built by NewServer.
type Option func(*Server)

// WithBucket sets each webhook's rate limit: size requests per window, in fixed windows that
// start with a bucket's first request. Use a short window for tests that exhaust it.
// Defaults to DefaultBucketSize per DefaultBucketWindow.
func WithBucket(size int, window time.Duration) Option {
	return func(s *Server) { s.size, s.window = max(size, 1), max(window, time.Millisecond) }
}

// WithClock sets the clock of the rate-limit buckets, so that a test can move time instead
// of waiting. Defaults to time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithWebhook makes the default webhook use this id and token instead of random ones.
func WithWebhook(id, token string) Option {
	return func(s *Server) { s.defID, s.defToken = id, token }
}

// Hook sees every request before the server's own rules, with the body already read. It
// answers the request itself and returns true, or returns false to let the server carry on.
// It runs on the server's goroutines, concurrently, and must not call the test's Fatal.
type Hook func(w http.ResponseWriter, r *http.Request, body []byte) bool

// Response is a canned answer for RespondNext.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Webhook is one webhook the server knows.
type Webhook struct {
	// ID is the webhook's snowflake id.
	ID string
	// Token is its secret token.
	Token string
	// ChannelID is the id of the channel its messages go to.
	ChannelID string
	// URL is its execute URL: <server>/api/webhooks/<id>/<token>.
	URL string
}

// bucket is one webhook's fixed-window rate limit.
type bucket struct {
	start time.Time
	used  int
}

type webhook struct {
	Webhook
	bucket bucket
}

// Server is a loopback fake of Discord's Execute Webhook endpoint. All its methods are safe
// for concurrent use, including while requests arrive.
type Server struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string

	srv    *httptest.Server
	size   int
	window time.Duration
	now    func() time.Time

	defID, defToken string
	def             Webhook

	mu          sync.Mutex
	webhooks    map[string]*webhook
	hook        Hook
	next        []Response
	requests    int
	injected    int
	rateLimited int
	messages    []Message
	rejected    []Rejection
	seq         uint64
	changed     chan struct{} // closed and replaced whenever a request has been answered
}

// NewServer starts a fake Discord with one registered webhook (see Webhook) and closes it when
// the test ends.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		size:     DefaultBucketSize,
		window:   DefaultBucketWindow,
		now:      time.Now,
		webhooks: make(map[string]*webhook),
		changed:  make(chan struct{}),
		seq:      1_300_000_000_000_000_000,
	}
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	if s.defID == "" {
		s.defID = s.newID()
	}
	if s.defToken == "" {
		s.defToken = randomToken()
	}
	s.def = s.AddWebhookWith(s.defID, s.defToken)
	return s
}

// Close shuts the server down, waiting for requests in flight. It is called when the test
// ends; calling it earlier makes later sends fail with connection errors.
func (s *Server) Close() { s.srv.Close() }

// Webhook returns the webhook registered by NewServer.
func (s *Server) Webhook() Webhook { return s.def }

// WebhookURL returns the URL of the default webhook.
func (s *Server) WebhookURL() string { return s.def.URL }

// AddWebhook registers another webhook, with a random id and token, and its own bucket.
func (s *Server) AddWebhook() Webhook { return s.AddWebhookWith(s.newID(), randomToken()) }

// AddWebhookWith registers a webhook with the given id (a snowflake: decimal digits) and
// token ([A-Za-z0-9_-]), replacing any with the same id. It panics if the id or the token
// cannot form a webhook path.
func (s *Server) AddWebhookWith(id, token string) Webhook {
	w := Webhook{ID: id, Token: token, ChannelID: s.newID(), URL: s.URL + "/api/webhooks/" + id + "/" + token}
	if _, _, ok := ParsePath("/api/webhooks/" + id + "/" + token); !ok {
		panic("discordtest: webhook id must be decimal digits and token [A-Za-z0-9_-]: " + id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webhooks[id] = &webhook{Webhook: w}
	return w
}

// SetHook installs fn ahead of the server's rules; nil removes it. Requests a hook answers
// count as injected.
func (s *Server) SetHook(fn Hook) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = fn
}

// FailNext makes the server answer the next request to a registered webhook (right id and
// token) with status and body, ahead of its rate limit and validation. A body starting with
// '{' is sent as application/json. Calls queue up: each answers one request.
func (s *Server) FailNext(status int, body string) {
	h := http.Header{}
	if strings.HasPrefix(strings.TrimSpace(body), "{") {
		h.Set("Content-Type", "application/json")
	}
	s.RespondNext(Response{Status: status, Header: h, Body: body})
}

// RespondNext queues a canned answer, with headers, as FailNext does.
func (s *Server) RespondNext(r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = append(s.next, r)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody))
	defer s.notify()

	s.mu.Lock()
	s.requests++
	hook := s.hook
	s.mu.Unlock()
	if hook != nil && hook(w, r, body) {
		s.mu.Lock()
		s.injected++
		s.mu.Unlock()
		return
	}

	// Route and authenticate: an unknown id or a wrong token is "Unknown Webhook".
	// https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
	id, token, ok := ParsePath(r.URL.Path)
	if !ok {
		s.reject(w, r, body, notFound())
		return
	}
	s.mu.Lock()
	hk := s.webhooks[id]
	if hk == nil || hk.Token != token {
		s.mu.Unlock()
		s.reject(w, r, body, unknownWebhook())
		return
	}
	if len(s.next) > 0 {
		canned := s.next[0]
		s.next = s.next[1:]
		s.injected++
		s.mu.Unlock()
		for k, vs := range canned.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(canned.Status)
		_, _ = io.WriteString(w, canned.Body)
		return
	}

	// Rate limit: every response carries the bucket's state; an empty bucket answers 429.
	// https://discord.com/developers/docs/topics/rate-limits#header-format
	// https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit
	now := s.now()
	b := &hk.bucket
	if b.start.IsZero() || !now.Before(b.start.Add(s.window)) {
		b.start, b.used = now, 0
	}
	reset := b.start.Add(s.window)
	resetAfter := reset.Sub(now)
	limited := b.used >= s.size
	if !limited {
		b.used++
	}
	remaining := s.size - b.used
	if limited {
		s.rateLimited++
	}
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.size))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(reset.UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(resetAfter.Seconds(), 'f', 3, 64))
	h.Set("X-RateLimit-Bucket", bucketHash)
	if limited {
		s.tooMany(w, r, body, resetAfter)
		return
	}

	if readErr != nil {
		s.reject(w, r, body, &APIError{Status: http.StatusBadRequest, Code: CodeGeneral, Message: "fake: read body: " + readErr.Error()})
		return
	}
	if e := checkRequest(r, body); e != nil {
		s.reject(w, r, body, e)
		return
	}
	s.accept(w, r, body, hk.Webhook)
}

// tooMany answers 429 with Retry-After (whole seconds, rounded up, as RFC 9110 requires) and
// the JSON body {"message","retry_after","global"}, retry_after in seconds with decimals.
// https://discord.com/developers/docs/topics/rate-limits#exceeding-a-rate-limit-rate-limit-response-structure
func (s *Server) tooMany(w http.ResponseWriter, r *http.Request, body []byte, after time.Duration) {
	secs := after.Seconds()
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	w.Header().Set("X-RateLimit-Scope", "user")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = fmt.Fprintf(w, `{"message":"You are being rate limited.","retry_after":%.3f,"global":false}`, secs)
	s.record(r, body, &APIError{Status: http.StatusTooManyRequests, Code: CodeGeneral, Message: "You are being rate limited."})
}

func (s *Server) reject(w http.ResponseWriter, r *http.Request, body []byte, e *APIError) {
	e.write(w)
	s.record(r, body, e)
}

func (s *Server) record(r *http.Request, body []byte, e *APIError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejected = append(s.rejected, Rejection{Err: e, Path: maskPath(r.URL.Path), Body: body, Time: time.Now()})
}

// accept records the message and answers: 200 with the message object for ?wait=true,
// otherwise 204.
// https://discord.com/developers/docs/resources/webhook#execute-webhook
func (s *Server) accept(w http.ResponseWriter, r *http.Request, body []byte, hk Webhook) {
	var req struct {
		Content         string           `json:"content"`
		Username        string           `json:"username"`
		Embeds          []Embed          `json:"embeds"`
		AllowedMentions *AllowedMentions `json:"allowed_mentions"`
		TTS             bool             `json:"tts"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		// ValidatePayload accepted the body, so this is the fake's own bug.
		s.reject(w, r, body, &APIError{Status: http.StatusInternalServerError, Code: CodeGeneral, Message: "fake: decode accepted body: " + err.Error()})
		return
	}
	wait, _ := waitParam(r.URL.Query())
	now := time.Now().UTC()
	s.mu.Lock()
	s.seq++
	m := Message{
		ID: strconv.FormatUint(s.seq, 10), WebhookID: hk.ID, ChannelID: hk.ChannelID,
		Content: req.Content, Username: req.Username, Embeds: req.Embeds, AllowedMentions: req.AllowedMentions,
		Wait: wait, Header: r.Header.Clone(), Body: body, Time: now,
	}
	s.messages = append(s.messages, m)
	s.mu.Unlock()

	if !wait {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	// The message object, as Discord returns it.
	// https://discord.com/developers/docs/resources/message#message-object
	embeds := make([]Embed, len(m.Embeds))
	for i, e := range m.Embeds {
		e.Type = "rich"
		embeds[i] = e
	}
	username := m.Username
	if username == "" {
		username = "Fake Webhook"
	}
	out, err := json.Marshal(map[string]any{
		"id": m.ID, "type": 0, "content": m.Content, "channel_id": m.ChannelID, "webhook_id": m.WebhookID,
		"author":      map[string]any{"id": m.WebhookID, "username": username, "avatar": nil, "discriminator": "0000", "bot": true},
		"attachments": []any{}, "embeds": embeds, "mentions": []any{}, "mention_roles": []any{},
		"pinned": false, "mention_everyone": false, "tts": req.TTS, "flags": 0, "components": []any{},
		"timestamp": now.Format("2006-01-02T15:04:05.000000-07:00"), "edited_timestamp": nil,
	})
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// notify wakes the waiters.
func (s *Server) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.changed)
	s.changed = make(chan struct{})
}

// Messages returns the accepted messages in arrival order. The slice is a copy; the
// messages' headers and bodies are shared and must not be modified.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Rejected returns every request the server refused by its own rules, in arrival order:
// contract violations, unknown webhooks and 429s alike.
func (s *Server) Rejected() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejection(nil), s.rejected...)
}

// Invalid returns the rejected requests that a well-behaved client never sends: every
// refusal but 429. A test of a sender asserts that it is empty.
func (s *Server) Invalid() []Rejection {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Rejection
	for _, r := range s.rejected {
		if r.Err.Status != http.StatusTooManyRequests {
			out = append(out, r)
		}
	}
	return out
}

// RateLimited returns how many requests were answered 429 because a bucket was empty.
func (s *Server) RateLimited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rateLimited
}

// Requests returns how many requests arrived, however they were answered.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Injected returns how many requests a Hook or a canned response answered.
func (s *Server) Injected() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.injected
}

// WaitForMessages waits until at least n messages have been accepted and returns them,
// failing the test if that has not happened within timeout.
func (s *Server) WaitForMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	s.waitFor(t, timeout, func() bool { return len(s.messages) >= n },
		func() string { return fmt.Sprintf("%d of %d messages", len(s.messages), n) })
	return s.Messages()
}

// WaitForRequests waits until at least n requests have been answered, failing the test if
// that has not happened within timeout.
func (s *Server) WaitForRequests(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	s.waitFor(t, timeout, func() bool { return s.requests >= n },
		func() string { return fmt.Sprintf("%d of %d requests", s.requests, n) })
}

// waitFor blocks until cond, evaluated under the lock, holds; it wakes on every answered
// request rather than polling.
func (s *Server) waitFor(t testing.TB, timeout time.Duration, cond func() bool, progress func() string) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok, changed := cond(), s.changed
		s.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			s.mu.Lock()
			p := progress()
			s.mu.Unlock()
			t.Fatalf("discordtest: timed out after %s with %s", timeout, p)
		}
	}
}

// newID returns a fresh snowflake-shaped id.
func (s *Server) newID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return strconv.FormatUint(s.seq, 10)
}

// randomToken returns a token shaped like Discord's: 68 URL-safe characters.
func randomToken() string {
	b := make([]byte, 34)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// maskPath hides the token of a webhook path.
func maskPath(p string) string {
	if id, _, ok := ParsePath(p); ok {
		// Cut after the id's own segment: the token may contain the id's digits.
		if i := strings.Index(p, "/webhooks/"+id+"/"); i >= 0 {
			return p[:i] + "/webhooks/" + id + "/" + channel.Mask
		}
		return channel.Mask
	}
	red := channel.RedactURL("http://x" + p)
	if !strings.HasPrefix(red, "http://x") {
		return channel.Mask
	}
	return red[len("http://x"):]
}
