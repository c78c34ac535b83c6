package webhooktest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/sdk"
)

// maxBody bounds how much of a request body the receiver reads and records.
const maxBody = 16 << 20

// Request is one request the receiver got.
type Request struct {
	// ID is the webhook-id header.
	ID string
	// Attempt counts the verified requests with this ID, from 1; it is 0 for a request that
	// failed verification.
	Attempt int
	// Method and Path are the request's method and URL path.
	Method, Path string
	// Header holds the request's headers.
	Header http.Header
	// Body is the request body as received.
	Body []byte
	// Time is when the receiver got the request.
	Time time.Time
	// Status is the status the receiver answered.
	Status int
	// VerifyErr is why verification failed, or nil.
	VerifyErr error
}

// Responder decides the status for one verified request; attempt counts the verified
// requests with this request's webhook-id, from 1.
type Responder func(r *http.Request, body []byte, attempt int) int

// Receiver is a loopback HTTP server that receives signed webhooks. All its methods are safe
// for concurrent use, including while requests arrive.
type Receiver struct {
	// URL is the server's base URL; webhooks may be sent to any path under it.
	URL string

	secret   string
	verifier *sdk.Verifier
	srv      *httptest.Server

	mu         sync.Mutex
	respond    Responder
	retryAfter string
	all        []Request
	byID       map[string][]Request
	attempts   map[string]int // verified requests per webhook-id, counted on arrival
	delivered  map[string]bool
	bad        int
	changed    chan struct{} // closed and replaced whenever a request is recorded
}

// NewReceiver starts a receiver that verifies requests with secret (one or more whsec_
// secrets separated by spaces; empty means a fresh random secret, see Secret). It answers
// 200 until programmed otherwise and is closed when the test ends.
func NewReceiver(t testing.TB, secret string) *Receiver {
	t.Helper()
	if secret == "" {
		var err error
		if secret, err = sdk.NewWebhookSecret(); err != nil {
			t.Fatalf("webhooktest: %v", err)
		}
	}
	v, err := sdk.NewVerifier(secret)
	if err != nil {
		t.Fatalf("webhooktest: %v", err)
	}
	r := &Receiver{
		secret:    secret,
		verifier:  v,
		byID:      make(map[string][]Request),
		attempts:  make(map[string]int),
		delivered: make(map[string]bool),
		changed:   make(chan struct{}),
		respond:   func(*http.Request, []byte, int) int { return http.StatusOK },
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	r.URL = r.srv.URL
	t.Cleanup(r.Close)
	return r
}

// Close shuts the server down, waiting for requests in flight. It is called automatically
// when the test ends; calling it earlier makes later sends fail with connection errors.
func (r *Receiver) Close() { r.srv.Close() }

// Secret returns the secret the receiver verifies with.
func (r *Receiver) Secret() string { return r.secret }

// Destination returns a webhook destination that points at the receiver (path /hook) with
// its secret.
func (r *Receiver) Destination(id string) channel.Destination {
	return webhook.Destination(id, r.URL+"/hook", r.secret)
}

// Client returns an HTTP client for the receiver's server.
func (r *Receiver) Client() *http.Client { return r.srv.Client() }

// FailFirst makes the receiver answer status to the first n verified requests of every
// webhook-id, and 200 afterwards.
func (r *Receiver) FailFirst(n, status int) {
	r.Respond(func(_ *http.Request, _ []byte, attempt int) int {
		if attempt <= n {
			return status
		}
		return http.StatusOK
	})
}

// Always makes the receiver answer status to every verified request.
func (r *Receiver) Always(status int) {
	r.Respond(func(*http.Request, []byte, int) int { return status })
}

// Respond makes fn decide the status of every verified request. fn runs on the server's
// goroutines, concurrently, and must not call the test's Fatal.
func (r *Receiver) Respond(fn Responder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = fn
}

// RetryAfter sets the Retry-After header value (seconds or an HTTP date) sent with every
// answer that is not 2xx; empty sends none.
func (r *Receiver) RetryAfter(value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retryAfter = value
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxBody))
	now := time.Now()
	rec := Request{
		ID:     req.Header.Get(sdk.HeaderWebhookID),
		Method: req.Method,
		Path:   req.URL.Path,
		Header: req.Header.Clone(),
		Body:   body,
		Time:   now,
	}
	if err != nil {
		rec.VerifyErr = err
	} else {
		rec.VerifyErr = r.verifier.Verify(req.Header, body)
	}

	r.mu.Lock()
	if rec.VerifyErr != nil {
		r.bad++
		rec.Status = http.StatusUnauthorized
	} else {
		r.attempts[rec.ID]++
		rec.Attempt = r.attempts[rec.ID]
	}
	respond, retryAfter := r.respond, r.retryAfter
	r.mu.Unlock()

	if rec.VerifyErr == nil {
		// Ask outside the lock: a Responder may block (a slow receiver) or read the
		// receiver's state.
		rec.Status = respond(req, body, rec.Attempt)
	}

	r.mu.Lock()
	r.all = append(r.all, rec)
	if rec.VerifyErr == nil {
		r.byID[rec.ID] = append(r.byID[rec.ID], rec)
		if rec.Status >= 200 && rec.Status < 300 {
			r.delivered[rec.ID] = true
		}
	}
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()

	if (rec.Status < 200 || rec.Status >= 300) && retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	w.WriteHeader(rec.Status)
	if rec.VerifyErr != nil {
		_, _ = io.WriteString(w, "invalid signature")
	}
}

// Count returns the number of requests received, including those that failed verification.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// Unique returns the number of distinct webhook-ids among verified requests, whatever the
// receiver answered them.
func (r *Receiver) Unique() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// Delivered returns the number of distinct webhook-ids that were answered 2xx at least once:
// the deliveries the sender should consider done.
func (r *Receiver) Delivered() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.delivered)
}

// BadSignatures returns the number of requests that failed verification (and were
// answered 401).
func (r *Receiver) BadSignatures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bad
}

// ByID returns the verified requests grouped by webhook-id, each group in the order the
// receiver answered them (attempt order, unless one id is sent concurrently).
// The map and slices are copies; the requests' headers and bodies are shared and must not
// be modified.
func (r *Receiver) ByID() map[string][]Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]Request, len(r.byID))
	for id, reqs := range r.byID {
		out[id] = append([]Request(nil), reqs...)
	}
	return out
}

// Requests returns every request received, verified or not, in arrival order.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.all...)
}

// WaitForUnique waits until at least n distinct webhook-ids have been received and verified,
// failing the test if that has not happened within timeout.
func (r *Receiver) WaitForUnique(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	r.waitFor(t, timeout, func() bool { return len(r.byID) >= n }, func() string {
		return strconv.Itoa(len(r.byID)) + " of " + strconv.Itoa(n) + " unique webhook-ids"
	})
}

// WaitForDelivered waits until at least n distinct webhook-ids have been answered 2xx,
// failing the test if that has not happened within timeout.
func (r *Receiver) WaitForDelivered(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	r.waitFor(t, timeout, func() bool { return len(r.delivered) >= n }, func() string {
		return strconv.Itoa(len(r.delivered)) + " of " + strconv.Itoa(n) + " delivered webhook-ids"
	})
}

// WaitForCount waits until at least n requests have been received, failing the test if that
// has not happened within timeout.
func (r *Receiver) WaitForCount(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	r.waitFor(t, timeout, func() bool { return len(r.all) >= n }, func() string {
		return strconv.Itoa(len(r.all)) + " of " + strconv.Itoa(n) + " requests"
	})
}

// waitFor blocks until cond, evaluated under the lock, holds; it wakes on every recorded
// request rather than polling.
func (r *Receiver) waitFor(t testing.TB, timeout time.Duration, cond func() bool, progress func() string) {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok, changed := cond(), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			r.mu.Lock()
			p := progress()
			r.mu.Unlock()
			t.Fatalf("webhooktest: timed out after %s with %s", timeout, p)
		}
	}
}
