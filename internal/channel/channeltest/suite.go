package channeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// sendGuard is how long any one Send may take before the suite calls it hung.
	sendGuard = 10 * time.Second
	// promptly is how soon Send must return once its context is done.
	promptly = 2 * time.Second
	// oversizeBytes is the data field of the oversize event: twice sdk.DefaultMaxEventBytes.
	oversizeBytes = 2 << 20
	// leakWindow is the length of the secret fragments that must not appear either: a quote
	// cut through a secret would leak its first part.
	leakWindow = 10
)

// Harness describes a channel to the suite.
type Harness struct {
	// New builds the channel under test and a destination whose URL lies under baseURL (the
	// suite's fake provider), logging to logger. Put the destination's token at least three
	// path segments deep or in the query (baseURL + "/hooks/herald/<token>?sig=<key>"), where
	// Destination.Secrets finds it. Required. New is called once per subtest, concurrently.
	New func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination)
	// Secrets must never appear, whole or in part, in a reason or in the log output; the
	// destination's own Secrets are checked too. List the tokens and keys New put into the
	// destination.
	Secrets []string
	// Check validates one request against the provider's documented contract (headers,
	// signature, payload shape and limits) and returns what is wrong. nil accepts everything.
	// It runs on the fake's goroutines; its errors fail the subtest.
	Check func(r *http.Request, body []byte) error
	// Accept writes the provider's success response with the given 2xx status (Resend, for
	// one, answers a JSON id). nil writes the status with no body.
	Accept func(w http.ResponseWriter, r *http.Request, status int)
}

// env is one subtest's channel, destination, fake provider and captured log.
type env struct {
	h    Harness
	ch   channel.Channel
	dest channel.Destination
	fake *fake
	logs *syncBuffer
}

// setup serves a fake that answers with answer and builds the channel against it.
func setup(t *testing.T, h Harness, answer answerFunc) *env {
	t.Helper()
	f := newFake(t, h, answer)
	e := build(t, h, f.srv.URL)
	e.fake = f
	return e
}

func build(t *testing.T, h Harness, baseURL string) *env {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ch, d := h.New(t, baseURL, logger)
	if ch == nil {
		t.Fatal("Harness.New returned a nil channel")
	}
	if err := ch.Validate(d); err != nil {
		t.Fatalf("Harness.New returned a destination its channel refuses: %v", err)
	}
	return &env{h: h, ch: ch, dest: d, logs: logs}
}

// send runs ch.Send, failing the test if it does not return within sendGuard.
func (e *env) send(t *testing.T, ctx context.Context, n channel.Notification) channel.Outcome {
	t.Helper()
	done := make(chan channel.Outcome, 1)
	go func() { done <- e.ch.Send(ctx, n) }()
	select {
	case o := <-done:
		e.assertClean(t, o)
		return o
	case <-time.After(sendGuard):
		t.Fatalf("Send did not return within %s", sendGuard)
		return channel.Outcome{}
	}
}

// assertClean checks an outcome's shape and that neither its reason nor the log holds a
// secret, whole or in part.
func (e *env) assertClean(t *testing.T, o channel.Outcome) {
	t.Helper()
	switch o.Kind {
	case channel.Delivered:
	case channel.Retry, channel.Permanent:
		if o.Reason == "" {
			t.Errorf("%s outcome has no reason", o.Kind)
		}
	default:
		t.Errorf("outcome kind %d is not Delivered, Retry or Permanent", o.Kind)
	}
	if strings.ContainsAny(o.Reason, "\r\n") {
		t.Errorf("reason spans several lines: %q", o.Reason)
	}
	secrets := append(append([]string(nil), e.h.Secrets...), e.dest.Secrets()...)
	for _, where := range []struct{ name, text string }{{"reason", o.Reason}, {"log", e.logs.String()}} {
		if leak := findLeak(where.text, secrets); leak != "" {
			t.Errorf("%s leaks secret material %q: %s", where.name, leak, where.text)
		}
	}
}

// findLeak returns a secret, or a leakWindow-long piece of one, found in text.
func findLeak(text string, secrets []string) string {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		if strings.Contains(text, s) {
			return s
		}
		for i := 0; i+leakWindow <= len(s) && len(s) > leakWindow; i++ {
			if piece := s[i : i+leakWindow]; strings.Contains(text, piece) {
				return piece
			}
		}
	}
	return ""
}

// Run runs the conformance suite against the channel h describes.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("channeltest: Harness.New is required")
	}
	t.Run("HappyPath", func(t *testing.T) { t.Parallel(); testHappyPath(t, h) })
	t.Run("Status", func(t *testing.T) { t.Parallel(); testStatuses(t, h) })
	t.Run("NetworkError", func(t *testing.T) { t.Parallel(); testNetworkError(t, h) })
	t.Run("ConnectionDropped", func(t *testing.T) { t.Parallel(); testConnectionDropped(t, h) })
	t.Run("SlowServerDeadline", func(t *testing.T) { t.Parallel(); testSlowServer(t, h) })
	t.Run("CancelledBeforeSend", func(t *testing.T) { t.Parallel(); testCancelledBefore(t, h) })
	t.Run("CancelledInFlight", func(t *testing.T) { t.Parallel(); testCancelledInFlight(t, h) })
	t.Run("Redirect", func(t *testing.T) { t.Parallel(); testRedirect(t, h) })
	t.Run("SecretRedaction", func(t *testing.T) { t.Parallel(); testRedaction(t, h) })
	t.Run("Oversize", func(t *testing.T) { t.Parallel(); testOversize(t, h) })
	t.Run("Concurrent", func(t *testing.T) { t.Parallel(); testConcurrent(t, h) })
}

func testHappyPath(t *testing.T, h Harness) {
	e := setup(t, h, func(w http.ResponseWriter, r *http.Request, _ []byte) { accept(h, w, r, http.StatusOK) })
	o := e.send(t, t.Context(), SampleNotification(e.dest))
	if o.Kind != channel.Delivered || o.StatusCode != http.StatusOK {
		t.Fatalf("outcome = %+v, want delivered with status 200", o)
	}
	if n := e.fake.count(); n != 1 {
		t.Fatalf("provider got %d requests, want 1", n)
	}
}

func testStatuses(t *testing.T, h Harness) {
	for _, c := range StatusCases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, h, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if c.RetryAfter != nil {
					w.Header().Set("Retry-After", c.RetryAfter(time.Now()))
				}
				if c.Status >= 200 && c.Status < 300 {
					accept(h, w, r, c.Status)
					return
				}
				echo(h, w, r, c.Status)
			})
			o := e.send(t, t.Context(), SampleNotification(e.dest))
			if o.Kind != c.Want {
				t.Fatalf("outcome = %+v, want %s", o, c.Want)
			}
			if o.StatusCode != c.Status {
				t.Errorf("StatusCode = %d, want %d", o.StatusCode, c.Status)
			}
			if o.RetryAfter > c.WantRetryAfter || o.RetryAfter < c.WantRetryAfter-c.Slack {
				t.Errorf("RetryAfter = %s, want %s (less up to %s)", o.RetryAfter, c.WantRetryAfter, c.Slack)
			}
			if c.Want != channel.Delivered && !strings.Contains(o.Reason, fmt.Sprint(c.Status)) {
				t.Errorf("reason %q does not name the status %d", o.Reason, c.Status)
			}
		})
	}
}

func testNetworkError(t *testing.T, h Harness) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens on its address any more
	e := build(t, h, srv.URL)
	o := e.send(t, t.Context(), SampleNotification(e.dest))
	if o.Kind != channel.Retry || o.StatusCode != 0 {
		t.Fatalf("outcome = %+v, want retry without a status", o)
	}
}

func testConnectionDropped(t *testing.T, h Harness) {
	e := setup(t, h, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // reset rather than close politely
			}
			_ = conn.Close()
		}
	})
	o := e.send(t, t.Context(), SampleNotification(e.dest))
	if o.Kind != channel.Retry {
		t.Fatalf("outcome = %+v, want retry", o)
	}
}

// hang returns an answer that blocks until the request's context ends or release is called,
// as a receiver that never answers; it never sleeps. Register release with t.Cleanup after
// setup, so that it runs before the fake's server closes (Close waits for handlers).
func hang() (answer answerFunc, release func()) {
	ch := make(chan struct{})
	var once sync.Once
	return func(_ http.ResponseWriter, r *http.Request, _ []byte) {
		select {
		case <-r.Context().Done():
		case <-ch:
		}
	}, func() { once.Do(func() { close(ch) }) }
}

func testSlowServer(t *testing.T, h Harness) {
	answer, release := hang()
	e := setup(t, h, answer)
	t.Cleanup(release)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	o := e.send(t, ctx, SampleNotification(e.dest))
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond+promptly {
		t.Errorf("Send took %s after a 100ms deadline", elapsed)
	}
	if o.Kind != channel.Retry {
		t.Fatalf("outcome = %+v, want retry", o)
	}
}

func testCancelledBefore(t *testing.T, h Harness) {
	e := setup(t, h, func(w http.ResponseWriter, r *http.Request, _ []byte) { accept(h, w, r, http.StatusOK) })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	o := e.send(t, ctx, SampleNotification(e.dest))
	if o.Kind != channel.Retry {
		t.Fatalf("outcome = %+v, want retry", o)
	}
}

func testCancelledInFlight(t *testing.T, h Harness) {
	answer, release := hang()
	e := setup(t, h, answer)
	t.Cleanup(release)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		select {
		case <-e.fake.arrived:
			cancel()
		case <-ctx.Done():
		}
	}()
	start := time.Now()
	o := e.send(t, ctx, SampleNotification(e.dest))
	if o.Kind != channel.Retry {
		t.Fatalf("outcome = %+v, want retry", o)
	}
	if elapsed := time.Since(start); elapsed > promptly {
		t.Errorf("Send took %s to notice cancellation", elapsed)
	}
}

func testRedirect(t *testing.T, h Harness) {
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			e := setup(t, h, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				// Send the client elsewhere on the same server, keeping the token: following
				// would show as a second request.
				w.Header().Set("Location", "http://"+r.Host+"/moved/away"+r.URL.RequestURI())
				w.WriteHeader(code)
			})
			o := e.send(t, t.Context(), SampleNotification(e.dest))
			if o.Kind != channel.Permanent || o.StatusCode != code {
				t.Fatalf("outcome = %+v, want permanent with status %d", o, code)
			}
			if n := e.fake.count(); n != 1 {
				t.Fatalf("provider got %d requests, want 1: the redirect was followed", n)
			}
		})
	}
}

func testRedaction(t *testing.T, h Harness) {
	// Every subtest already checks reasons and logs; this one makes the fake echo the
	// request and the secrets with every kind of failure, and checks that the destination
	// itself prints without them.
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError} {
		e := setup(t, h, func(w http.ResponseWriter, r *http.Request, _ []byte) { echo(h, w, r, code) })
		o := e.send(t, t.Context(), SampleNotification(e.dest))
		if o.Kind == channel.Delivered {
			t.Fatalf("status %d: delivered", code)
		}
		if leak := findLeak(e.dest.String(), append(append([]string(nil), h.Secrets...), e.dest.Secrets()...)); leak != "" {
			t.Errorf("Destination.String leaks %q: %s", leak, e.dest.String())
		}
		if leak := findLeak(fmt.Sprintf("%v", o), h.Secrets); leak != "" {
			t.Errorf("outcome leaks %q", leak)
		}
	}
}

func testOversize(t *testing.T, h Harness) {
	e := setup(t, h, func(w http.ResponseWriter, r *http.Request, _ []byte) { accept(h, w, r, http.StatusOK) })
	o := e.send(t, t.Context(), OversizeNotification(e.dest, oversizeBytes))
	if o.Kind == channel.Retry {
		t.Fatalf("outcome = %+v, want delivered (perhaps truncated) or permanent: retrying cannot help", o)
	}
}

func testConcurrent(t *testing.T, h Harness) {
	const sends = 32
	e := setup(t, h, func(w http.ResponseWriter, r *http.Request, _ []byte) { accept(h, w, r, http.StatusOK) })
	outcomes := make(chan channel.Outcome, sends)
	for i := range sends {
		go func() {
			n := notification(e.dest, fmt.Sprintf("01JCONCURRENT%014d", i), json.RawMessage(`{"n":`+fmt.Sprint(i)+`}`))
			outcomes <- e.ch.Send(t.Context(), n)
		}()
	}
	for range sends {
		select {
		case o := <-outcomes:
			e.assertClean(t, o)
			if o.Kind != channel.Delivered {
				t.Errorf("outcome = %+v, want delivered", o)
			}
		case <-time.After(sendGuard):
			t.Fatalf("concurrent sends did not finish within %s", sendGuard)
		}
	}
	if n := e.fake.count(); n != sends {
		t.Fatalf("provider got %d requests, want %d", n, sends)
	}
}
