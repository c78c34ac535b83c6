package emailtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Resend's documented limits and defaults that the fake enforces.
const (
	// MaxRecipients is the most addresses "to" may list.
	// https://resend.com/docs/api-reference/emails/send-email
	MaxRecipients = 50
	// MaxIdempotencyKeyLen is the longest Idempotency-Key accepted.
	// https://resend.com/docs/dashboard/emails/idempotency-keys
	MaxIdempotencyKeyLen = 256
	// DefaultRateLimit is Resend's default rate: 2 requests per second per team.
	// https://resend.com/docs/api-reference/introduction#rate-limit
	DefaultRateLimit = 2
	// maxRequestBody is Resend's 40 MB limit on an email, attachments included.
	// https://resend.com/docs/api-reference/emails/send-email
	maxRequestBody = 40 << 20
	// maxTagLen bounds tag names and values.
	// https://resend.com/docs/api-reference/emails/send-email
	maxTagLen = 256
)

// APIError is Resend's error body, and the error CheckRequest returns.
// https://resend.com/docs/api-reference/errors
type APIError struct {
	StatusCode int    `json:"statusCode"`
	Message    string `json:"message"`
	Name       string `json:"name"`
}

func (e *APIError) Error() string {
	return fmt.Sprintf("resend %d %s: %s", e.StatusCode, e.Name, e.Message)
}

func apiError(status int, name, format string, args ...any) *APIError {
	return &APIError{StatusCode: status, Name: name, Message: fmt.Sprintf(format, args...)}
}

// Tag is one tag of an email.
type Tag struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Email is one email the fake accepted.
type Email struct {
	// ID is the id the fake answered.
	ID string
	// IdempotencyKey is the request's Idempotency-Key header, if any.
	IdempotencyKey string
	From           string
	To             []string
	Subject        string
	HTML           string
	Text           string
	Headers        map[string]string
	Tags           []Tag
	// Body is the request body exactly as received.
	Body []byte
}

// Rejection is one request the fake refused, with Resend's error.
type Rejection struct {
	APIError
	IdempotencyKey string
	Body           []byte
}

// ResendOption configures NewResend.
type ResendOption func(*Resend)

// WithAPIKey sets the API key the fake accepts. Defaults to a random "re_" key (see APIKey).
func WithAPIKey(key string) ResendOption { return func(r *Resend) { r.key = key } }

// WithRateLimit sets how many requests per second one API key may make, as a token bucket
// holding that many requests. Defaults to DefaultRateLimit; zero or less disables limiting.
func WithRateLimit(perSecond int) ResendOption { return func(r *Resend) { r.limit = perSecond } }

// WithClock sets the clock of the rate limiter, so that tests can step time instead of
// sleeping. Defaults to time.Now.
func WithClock(now func() time.Time) ResendOption { return func(r *Resend) { r.now = now } }

// Resend is a fake of Resend's POST /emails, served on a loopback port. It enforces the
// documented contract: bearer key, payload validation, idempotency keys and the rate limit.
// It is safe for concurrent use.
type Resend struct {
	srv   *httptest.Server
	key   string
	limit int
	now   func() time.Time

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever an email is recorded
	requests int
	emails   []Email
	rejected []Rejection
	idem     map[string]idemRecord
	buckets  map[string]*bucket
	failNext []APIError
	loseNext int
}

// idemRecord is what one idempotency key was first used for.
type idemRecord struct {
	bodyHash [32]byte
	id       string
}

// NewResend starts the fake; it stops when the test ends.
func NewResend(t testing.TB, opts ...ResendOption) *Resend {
	t.Helper()
	r := &Resend{
		key:     "re_" + randomHex(16),
		limit:   DefaultRateLimit,
		now:     time.Now,
		changed: make(chan struct{}),
		idem:    map[string]idemRecord{},
		buckets: map[string]*bucket{},
	}
	for _, o := range opts {
		o(r)
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the API base to put in a destination's URL.
func (r *Resend) URL() string { return r.srv.URL }

// APIKey is the key the fake accepts, to put in a destination's Secret.
func (r *Resend) APIKey() string { return r.key }

// Client returns an HTTP client for the fake's server.
func (r *Resend) Client() *http.Client { return r.srv.Client() }

// Emails returns the emails accepted so far, in order. A repeat answered from an idempotency
// key is not a second email.
func (r *Resend) Emails() []Email {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Email(nil), r.emails...)
}

// Rejected returns the requests refused so far, with the error each got.
func (r *Resend) Rejected() []Rejection {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Rejection(nil), r.rejected...)
}

// Requests counts the requests received, whatever their answer.
func (r *Resend) Requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests
}

// WaitForEmails waits until at least n emails were accepted, or ctx ends.
func (r *Resend) WaitForEmails(ctx context.Context, n int) ([]Email, error) {
	for {
		r.mu.Lock()
		got, changed := len(r.emails), r.changed
		r.mu.Unlock()
		if got >= n {
			return r.Emails(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return r.Emails(), fmt.Errorf("resend fake: %d of %d emails: %w", got, n, ctx.Err())
		}
	}
}

// FailNext makes the fake answer the next authenticated request with e (its StatusCode,
// name and message), whatever the request, as Resend does when it fails. Several calls queue.
func (r *Resend) FailNext(e APIError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failNext = append(r.failNext, e)
}

// LoseNextResponse makes the fake accept the next valid email but answer 503, as if the
// response had been lost on its way back: a retry with the same Idempotency-Key must then get
// the first email's id and send nothing more.
func (r *Resend) LoseNextResponse() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loseNext++
}

func (r *Resend) serve(w http.ResponseWriter, req *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(req.Body, maxRequestBody+1))
	key := req.Header.Get("Idempotency-Key")

	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests++
	reject := func(e *APIError) {
		r.rejected = append(r.rejected, Rejection{APIError: *e, IdempotencyKey: key, Body: body})
		writeJSON(w, e.StatusCode, e)
	}
	if e := checkRoute(req); e != nil {
		reject(e)
		return
	}
	if e := checkAuth(r.key, req); e != nil {
		reject(e)
		return
	}
	// Every request counts against the rate limit, refused or not.
	// https://resend.com/docs/api-reference/introduction#rate-limit
	if r.limit > 0 {
		b := r.buckets[r.key]
		if b == nil {
			b = &bucket{tokens: float64(r.limit), at: r.now()}
			r.buckets[r.key] = b
		}
		ok, remaining, reset, retry := b.take(r.now(), float64(r.limit))
		h := w.Header()
		h.Set("Ratelimit-Limit", strconv.Itoa(r.limit))
		h.Set("Ratelimit-Remaining", strconv.Itoa(remaining))
		h.Set("Ratelimit-Reset", strconv.Itoa(reset))
		if !ok {
			h.Set("Retry-After", strconv.Itoa(retry))
			reject(apiError(http.StatusTooManyRequests, "rate_limit_exceeded",
				"Too many requests. You can only make %d requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.", r.limit))
			return
		}
	}
	if len(r.failNext) > 0 {
		e := r.failNext[0]
		r.failNext = r.failNext[1:]
		reject(&e)
		return
	}
	if readErr != nil {
		reject(apiError(http.StatusBadRequest, "validation_error", "could not read the request body"))
		return
	}
	if len(body) > maxRequestBody {
		reject(apiError(http.StatusRequestEntityTooLarge, "validation_error", "the email is larger than 40MB"))
		return
	}
	if e := checkIdempotencyKey(req); e != nil {
		reject(e)
		return
	}
	email, e := validatePayload(req, body)
	if e != nil {
		reject(e)
		return
	}
	// https://resend.com/docs/dashboard/emails/idempotency-keys
	sum := sha256.Sum256(body)
	if key != "" {
		if prev, ok := r.idem[key]; ok {
			if prev.bodyHash != sum {
				reject(apiError(http.StatusConflict, "invalid_idempotent_request",
					"Same idempotency key used with a different request payload."))
				return
			}
			writeJSON(w, http.StatusOK, map[string]string{"id": prev.id})
			return
		}
	}
	email.ID = newUUID()
	email.IdempotencyKey = key
	email.Body = body
	r.emails = append(r.emails, *email)
	close(r.changed)
	r.changed = make(chan struct{})
	if key != "" {
		r.idem[key] = idemRecord{bodyHash: sum, id: email.ID}
	}
	if r.loseNext > 0 {
		r.loseNext--
		writeJSON(w, http.StatusServiceUnavailable, apiError(http.StatusServiceUnavailable, "internal_server_error",
			"response lost (emailtest.LoseNextResponse)"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": email.ID})
}

// CheckRequest checks one request against Resend's documented contract for POST /emails:
// route, bearer key, Idempotency-Key and payload. It returns the *APIError Resend would
// answer, or nil. It does not apply the rate limit or idempotency, which need state; the fake
// applies those too. Conformance harnesses use it as their Check.
func CheckRequest(apiKey string, r *http.Request, body []byte) error {
	if e := checkRoute(r); e != nil {
		return e
	}
	if e := checkAuth(apiKey, r); e != nil {
		return e
	}
	if e := checkIdempotencyKey(r); e != nil {
		return e
	}
	if _, e := validatePayload(r, body); e != nil {
		return e
	}
	return nil
}

// Accept writes Resend's success answer with status: {"id":"<uuid>"}, or no body where the
// status allows none. It has the shape of channeltest.Harness.Accept.
func Accept(w http.ResponseWriter, _ *http.Request, status int) {
	if status == http.StatusNoContent || status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, map[string]string{"id": newUUID()})
}

// checkRoute accepts POST /emails only.
// https://resend.com/docs/api-reference/errors (not_found, method_not_allowed)
func checkRoute(r *http.Request) *APIError {
	if r.URL.Path != "/emails" {
		return apiError(http.StatusNotFound, "not_found", "The requested endpoint does not exist.")
	}
	if r.Method != http.MethodPost {
		return apiError(http.StatusMethodNotAllowed, "method_not_allowed", "Method is not allowed for the requested path.")
	}
	return nil
}

// checkAuth wants "Authorization: Bearer <key>".
// https://resend.com/docs/api-reference/introduction#authentication
// https://resend.com/docs/api-reference/errors (missing_api_key, invalid_api_key)
func checkAuth(apiKey string, r *http.Request) *APIError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return apiError(http.StatusUnauthorized, "missing_api_key", "Missing API key in the authorization header.")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token != apiKey {
		return apiError(http.StatusForbidden, "invalid_api_key", "API key is invalid.")
	}
	return nil
}

// checkIdempotencyKey wants an absent key or one of 1 to 256 characters.
// https://resend.com/docs/dashboard/emails/idempotency-keys
// https://resend.com/docs/api-reference/errors (invalid_idempotency_key)
func checkIdempotencyKey(r *http.Request) *APIError {
	vs, present := r.Header["Idempotency-Key"]
	if !present {
		return nil
	}
	if len(vs) != 1 || len(vs[0]) < 1 || len(vs[0]) > MaxIdempotencyKeyLen {
		return apiError(http.StatusBadRequest, "invalid_idempotency_key", "The key must be between 1-256 chars.")
	}
	return nil
}

// knownFields are the body fields of POST /emails; anything else is refused, so that a typo
// in the channel shows.
// https://resend.com/docs/api-reference/emails/send-email
var knownFields = map[string]bool{
	"from": true, "to": true, "subject": true, "bcc": true, "cc": true, "reply_to": true,
	"html": true, "text": true, "react": true, "headers": true, "attachments": true,
	"tags": true, "scheduled_at": true, "template": true, "topic_id": true,
}

// tagPattern is what tag names and values may hold.
// https://resend.com/docs/api-reference/emails/send-email (tags)
var tagPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// headerName is an RFC 5322 field name: printable ASCII but ':'.
var headerName = regexp.MustCompile(`^[!-9;-~]+$`)

// validatePayload checks the JSON body of POST /emails and decodes it. Field errors are
// 422 validation_error, as Resend answers them (invalid_from_address for a bad from).
// https://resend.com/docs/api-reference/emails/send-email
// https://resend.com/docs/api-reference/errors
func validatePayload(r *http.Request, body []byte) (*Email, *APIError) {
	invalid := func(format string, args ...any) (*Email, *APIError) {
		return nil, apiError(http.StatusUnprocessableEntity, "validation_error", format, args...)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return invalid("Content-Type must be application/json, got %q", ct)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		return invalid("The request body is not a JSON object: %v", err)
	}
	for k := range fields {
		if !knownFields[k] {
			return invalid("Unknown field `%s`.", k)
		}
	}
	var e Email
	str := func(name string, dst *string, required bool) *APIError {
		raw, ok := fields[name]
		if !ok || string(raw) == "null" {
			if required {
				_, err := invalid("The `%s` field is missing.", name)
				return err
			}
			return nil
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			_, e := invalid("The `%s` field must be a string.", name)
			return e
		}
		return nil
	}
	for _, f := range []struct {
		name     string
		dst      *string
		required bool
	}{{"from", &e.From, true}, {"subject", &e.Subject, true}, {"html", &e.HTML, false}, {"text", &e.Text, false}} {
		if err := str(f.name, f.dst, f.required); err != nil {
			return nil, err
		}
	}
	if _, err := mail.ParseAddress(e.From); err != nil {
		return nil, apiError(http.StatusUnprocessableEntity, "invalid_from_address",
			"Invalid `from` field. The email address needs to follow the `email@example.com` or `Name <email@example.com>` format.")
	}
	to, ok := fields["to"]
	if !ok {
		return invalid("The `to` field is missing.")
	}
	if json.Unmarshal(to, &e.To) != nil {
		var one string
		if json.Unmarshal(to, &one) != nil {
			return invalid("The `to` field must be a string or an array of strings.")
		}
		e.To = []string{one}
	}
	if len(e.To) == 0 || len(e.To) > MaxRecipients {
		return invalid("The `to` field must list 1 to %d recipients, got %d.", MaxRecipients, len(e.To))
	}
	for _, a := range e.To {
		if _, err := mail.ParseAddress(a); err != nil {
			return invalid("Invalid `to` field. %q is not a valid email address.", a)
		}
	}
	if strings.TrimSpace(e.Subject) == "" {
		return invalid("The `subject` field must not be empty.")
	}
	if strings.ContainsAny(e.Subject, "\r\n") {
		return invalid("The `subject` field must be one line.")
	}
	if e.HTML == "" && e.Text == "" {
		return invalid("Either `html` or `text` must be provided.")
	}
	if raw, ok := fields["headers"]; ok {
		if err := json.Unmarshal(raw, &e.Headers); err != nil {
			return invalid("The `headers` field must be an object of strings.")
		}
		for k, v := range e.Headers {
			if !headerName.MatchString(k) || strings.ContainsAny(v, "\r\n") {
				return invalid("Invalid header %q.", k)
			}
		}
	}
	if raw, ok := fields["tags"]; ok {
		if err := json.Unmarshal(raw, &e.Tags); err != nil {
			return invalid("The `tags` field must be an array of {name, value} objects.")
		}
		for _, t := range e.Tags {
			for _, s := range []string{t.Name, t.Value} {
				if len(s) > maxTagLen || !tagPattern.MatchString(s) {
					return invalid("Tags should only contain ASCII letters, numbers, underscores, or dashes, at most %d characters: %q.", maxTagLen, s)
				}
			}
		}
	}
	return &e, nil
}

// bucket is a token bucket refilled at rate tokens per second, holding at most rate tokens.
type bucket struct {
	tokens float64
	at     time.Time
}

// take spends one token if there is one. It returns what the ratelimit-* headers say:
// requests remaining, seconds until the bucket is full again, and (when refused) seconds
// until one more request is allowed.
func (b *bucket) take(now time.Time, rate float64) (ok bool, remaining, reset, retryAfter int) {
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(rate, b.tokens+elapsed*rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		ok = true
	}
	remaining = int(math.Floor(b.tokens))
	reset = int(math.Ceil((rate - b.tokens) / rate))
	if !ok {
		retryAfter = max(1, int(math.Ceil((1-b.tokens)/rate)))
	}
	return ok, remaining, reset, retryAfter
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// newUUID returns a random (version 4) UUID, as Resend's email ids are.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x", b)
}
