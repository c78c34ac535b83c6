package channel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
)

func response(status int, header http.Header, body string) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	return &http.Response{StatusCode: status, Header: header, Body: io.NopCloser(strings.NewReader(body))}
}

// TestClassifyStatusTable runs the table every channel's conformance suite runs, straight
// against the classifier.
func TestClassifyStatusTable(t *testing.T) {
	t.Parallel()
	for _, c := range channeltest.StatusCases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if c.RetryAfter != nil {
				h.Set("Retry-After", c.RetryAfter(time.Now()))
			}
			o := channel.Classify(response(c.Status, h, "nope"), nil)
			if o.Kind != c.Want || o.StatusCode != c.Status {
				t.Fatalf("Classify = %+v, want %s with status %d", o, c.Want, c.Status)
			}
			if o.RetryAfter > c.WantRetryAfter || o.RetryAfter < c.WantRetryAfter-c.Slack {
				t.Fatalf("RetryAfter = %s, want %s", o.RetryAfter, c.WantRetryAfter)
			}
		})
	}
}

func TestClassifyReasons(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		resp   *http.Response
		want   channel.Kind
		reason string
	}{
		{"body quoted on one line", response(503, nil, "upstream\r\n\tdown  \n"), channel.Retry, "HTTP 503: upstream down"},
		{"empty body", response(404, nil, ""), channel.Permanent, "HTTP 404"},
		{"long body cut at 200 bytes", response(500, nil, strings.Repeat("a", 1000)), channel.Retry, "HTTP 500: " + strings.Repeat("a", 200)},
		{"rune cut in half is dropped", response(400, nil, strings.Repeat("a", 199)+"é"), channel.Permanent, "HTTP 400: " + strings.Repeat("a", 199)},
		{"control characters", response(400, nil, "bad\x00\x1b[31mred"), channel.Permanent, "HTTP 400: bad [31mred"},
		{"URL in body masked", response(400, nil, "no such hook https://example.com/api/webhooks/123/tok3n?x=1"), channel.Permanent,
			"HTTP 400: no such hook https://example.com/api/webhooks/***?***"},
		{"redirect names the masked target", response(302, http.Header{"Location": {"https://new.example.com/api/hooks/tok3n?k=v"}}, ""),
			channel.Permanent, "HTTP 302: redirect to https://new.example.com/api/hooks/***?*** not followed; update the destination URL"},
		{"relative redirect", response(301, http.Header{"Location": {"/moved/deep/tok3n?k=v"}}, ""),
			channel.Permanent, "HTTP 301: redirect to /moved/***?*** not followed; update the destination URL"},
		{"redirect without Location", response(308, nil, ""), channel.Permanent, "HTTP 308: redirect not followed; update the destination URL"},
		{"1xx is permanent", response(199, nil, ""), channel.Permanent, "HTTP 199"},
		{"600 is permanent", response(600, nil, ""), channel.Permanent, "HTTP 600"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := channel.Classify(c.resp, nil)
			if o.Kind != c.want || o.Reason != c.reason {
				t.Fatalf("Classify = %s %q, want %s %q", o.Kind, o.Reason, c.want, c.reason)
			}
		})
	}
}

func TestClassifyMasksSecretsBeforeCutting(t *testing.T) {
	t.Parallel()
	secret := "s3cr3t-" + strings.Repeat("k", 60)
	// The secret straddles the 200-byte cut: masking after cutting would leave its head.
	body := strings.Repeat("x", 170) + " " + secret
	o := channel.Classify(response(400, nil, body), nil, secret)
	if strings.Contains(o.Reason, "s3cr3t") {
		t.Fatalf("reason leaks the head of the secret: %q", o.Reason)
	}
	if !strings.HasSuffix(o.Reason, channel.Mask) {
		t.Fatalf("reason %q does not end with the mask", o.Reason)
	}
}

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestClassifyClosesBodies(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 302, 404, 503} {
		body := &closeRecorder{Reader: strings.NewReader(strings.Repeat("z", 1000))}
		channel.Classify(&http.Response{StatusCode: status, Header: http.Header{}, Body: body}, nil)
		if !body.closed {
			t.Errorf("status %d: body not closed", status)
		}
	}
	body := &closeRecorder{Reader: strings.NewReader("")}
	channel.Classify(&http.Response{StatusCode: 302, Body: body}, errors.New("stopped after redirect"))
	if !body.closed {
		t.Error("body of a response returned with an error not closed")
	}
}

// TestClassifyReusesConnections proves that draining lets the transport keep one
// connection for many failed sends.
func TestClassifyReusesConnections(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, strings.Repeat("busy ", 2000))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	client := channel.NewHTTPClient(5 * time.Second)
	t.Cleanup(client.CloseIdleConnections)
	for range 5 {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, strings.NewReader("{}"))
		if o := channel.Classify(client.Do(req)); o.Kind != channel.Retry {
			t.Fatalf("outcome = %+v", o)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 5 sequential requests, want 1", n)
	}
}

func TestClassifyErrors(t *testing.T) {
	t.Parallel()
	const token = "tok3n-abcdef"
	u := "https://discord.com/api/webhooks/123/" + token + "?wait=true"
	wrap := func(err error) error { return &url.Error{Op: "Post", URL: u, Err: err} }
	cases := []struct {
		name   string
		err    error
		reason string
	}{
		{"refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: &net.AddrError{Err: "x"}}), ""},
		{"connection refused", wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), "post: connection refused"},
		{"reset", wrap(&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), "post: connection reset by peer"},
		{"canceled", wrap(context.Canceled), "post: canceled"},
		{"deadline", wrap(context.DeadlineExceeded), "post: timeout (deadline exceeded)"},
		{"eof", wrap(io.EOF), "post: connection closed by server"},
		{"dns", wrap(&net.DNSError{Err: "no such host", Name: "discord.invalid", IsNotFound: true}), "post: dns lookup of discord.invalid: no such host"},
		{"url echoed in cause", wrap(fmt.Errorf("weird failure talking to %s", u)), ""},
		{"not a url.Error", syscall.ECONNREFUSED, "connection refused"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			o := channel.Classify(nil, c.err)
			if o.Kind != channel.Retry || o.StatusCode != 0 {
				t.Fatalf("Classify = %+v, want retry without status", o)
			}
			if strings.Contains(o.Reason, token) || strings.Contains(o.Reason, "wait=true") {
				t.Fatalf("reason %q leaks the URL", o.Reason)
			}
			if c.reason != "" && o.Reason != c.reason {
				t.Fatalf("reason = %q, want %q", o.Reason, c.reason)
			}
		})
	}
}

// TestClassifyRealErrors classifies what a real client returns, not hand-built errors.
func TestClassifyRealErrors(t *testing.T) {
	t.Parallel()
	client := channel.NewHTTPClient(5 * time.Second)
	t.Cleanup(client.CloseIdleConnections)

	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })

	post := func(ctx context.Context, base string) channel.Outcome {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/hooks/x/tok3n-secret?key=k3y-secret", nil)
		return channel.Classify(client.Do(req))
	}
	short, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	cancelled, cancel2 := context.WithCancel(t.Context())
	cancel2()

	for name, o := range map[string]channel.Outcome{
		"closed server": post(t.Context(), closed.URL),
		"deadline":      post(short, slow.URL),
		"cancelled":     post(cancelled, slow.URL),
	} {
		if o.Kind != channel.Retry {
			t.Errorf("%s: outcome = %+v, want retry", name, o)
		}
		if strings.Contains(o.Reason, "secret") || strings.Contains(o.Reason, "127.0.0.1:") && strings.Contains(o.Reason, "/hooks") {
			t.Errorf("%s: reason %q leaks the URL", name, o.Reason)
		}
		if !strings.HasPrefix(o.Reason, "post: ") {
			t.Errorf("%s: reason %q does not name the operation", name, o.Reason)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                                 0,
		"7":                                7 * time.Second,
		" 7 ":                              7 * time.Second,
		"0":                                0,
		"-3":                               0,
		"1.5":                              0,
		"soon":                             0,
		"99999999999999999":                channel.MaxRetryAfter,
		"86401":                            channel.MaxRetryAfter,
		"Sat, 01 Mar 2025 12:00:30 GMT":    30 * time.Second,
		"Sat, 01 Mar 2025 11:00:00 GMT":    0,
		"Saturday, 01-Mar-25 12:01:00 GMT": time.Minute, // RFC 850, which RFC 9110 still accepts
		"Mon, 01 Mar 2100 12:00:00 GMT":    channel.MaxRetryAfter,
	}
	for in, want := range cases {
		if got := channel.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestNewHTTPClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	t.Cleanup(srv.Close)

	plain := &http.Client{} // follows redirects by default
	for name, c := range map[string]*http.Client{
		"NewHTTPClient":      channel.NewHTTPClient(0),
		"NoRedirects(plain)": channel.NoRedirects(plain),
		"NoRedirects(nil)":   channel.NoRedirects(nil),
	} {
		hits.Store(0)
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, nil)
		o := channel.Classify(c.Do(req))
		if o.Kind != channel.Permanent || o.StatusCode != http.StatusFound || hits.Load() != 1 {
			t.Errorf("%s: outcome %+v after %d requests, want permanent 302 after 1", name, o, hits.Load())
		}
		c.CloseIdleConnections()
	}
	if plain.CheckRedirect != nil {
		t.Error("NoRedirects changed the client it was given")
	}
}

// reusable is a response body that a benchmark rewinds instead of allocating anew.
type reusable struct{ *strings.Reader }

func (reusable) Close() error { return nil }

func BenchmarkClassify(b *testing.B) {
	bench := func(b *testing.B, status int, h http.Header, text string, secrets ...string) {
		body := reusable{strings.NewReader(text)}
		resp := &http.Response{StatusCode: status, Header: h, Body: body}
		b.ReportAllocs()
		for b.Loop() {
			body.Reset(text)
			channel.Classify(resp, nil, secrets...)
		}
	}
	b.Run("delivered", func(b *testing.B) { bench(b, http.StatusNoContent, http.Header{}, "") })
	b.Run("retry with body", func(b *testing.B) {
		bench(b, http.StatusServiceUnavailable, http.Header{"Retry-After": {"7"}}, `{"error":"overloaded, try again"}`, "whsec_abcdefghijklmnop")
	})
	b.Run("permanent empty", func(b *testing.B) { bench(b, http.StatusNotFound, http.Header{}, "") })
	b.Run("network error", func(b *testing.B) {
		err := &url.Error{Op: "Post", URL: "https://example.com/hook", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
		b.ReportAllocs()
		for b.Loop() {
			channel.Classify(nil, err)
		}
	})
}
