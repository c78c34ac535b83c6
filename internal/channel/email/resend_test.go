package email_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/channel/email/emailtest"
	"github.com/heraldhq/herald/internal/render"
)

// resendDest is a Resend destination for the fake.
func resendDest(fake *emailtest.Resend) channel.Destination {
	return email.Destination("ops-mail", &email.Config{ResendAPIURL: fake.URL(), ResendAPIKey: fake.APIKey(),
		From: testFrom, To: []string{testTo}})
}

// TestResendConformance runs the suite every channel runs against the Resend transport; the
// suite's fake checks each request with the emailtest fake's own validator.
func TestResendConformance(t *testing.T) {
	t.Parallel()
	const apiKey = "re_conformance_5f1e0c9a7b3d4e2f"
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, email.Provider{}, logger)
			return ch, email.Destination("ops-mail", &email.Config{ResendAPIURL: baseURL, ResendAPIKey: apiKey,
				From: testFrom, To: []string{testTo, "oncall@acme.example"}})
		},
		Secrets: []string{apiKey},
		Check: func(r *http.Request, body []byte) error {
			if err := emailtest.CheckRequest(apiKey, r, body); err != nil {
				return err
			}
			if r.Header.Get("Idempotency-Key") == "" {
				return errIdempotencyKeyMissing
			}
			return nil
		},
		Accept: emailtest.Accept,
	})
}

var errIdempotencyKeyMissing = &emailtest.APIError{StatusCode: 400, Name: "test", Message: "no Idempotency-Key"}

// steppedClock is a clock that moves only when told.
type steppedClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *steppedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *steppedClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestResendSamples sends every render sample through the Resend fake at the pace the channel
// asks for (the fake's clock steps by the pace instead of the test sleeping): none may be
// refused, rate limit included, and each email must be what Preview promised.
func TestResendSamples(t *testing.T) {
	t.Parallel()
	clock := &steppedClock{now: time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)}
	fake := emailtest.NewResend(t, emailtest.WithClock(clock.Now))
	ch := email.New(channeltest.NewClient(t), nil)
	d := resendDest(fake)
	pace := ch.Pace(d)
	samples := render.Samples()
	for i, ev := range samples {
		if i >= pace.Burst {
			clock.Step(pace.Every)
		}
		n := channeltest.NotifyRaw(t, d, ev)
		o := ch.Send(t.Context(), n)
		if o.Kind != channel.Delivered || o.StatusCode != http.StatusOK {
			t.Fatalf("%s: outcome %+v, want delivered", ev.Type, o)
		}
	}
	if rej := fake.Rejected(); len(rej) != 0 {
		t.Fatalf("fake refused %d requests, first: %+v", len(rej), rej[0].APIError)
	}
	emails := fake.Emails()
	if len(emails) != len(samples) {
		t.Fatalf("fake got %d emails, want %d", len(emails), len(samples))
	}
	for i, ev := range samples {
		n := channeltest.NotifyRaw(t, d, ev)
		p, err := ch.Preview(n)
		if err != nil {
			t.Fatal(err)
		}
		e := emails[i]
		if string(e.Body) != string(p.Body) {
			t.Errorf("%s: sent body differs from Preview.Body", ev.Type)
		}
		if e.Subject != p.Subject || e.HTML != p.HTML || e.Text != p.Text {
			t.Errorf("%s: sent subject/html/text differ from the preview", ev.Type)
		}
		if e.Subject == "" || e.Text == "" || e.HTML == "" {
			t.Errorf("%s: subject %q, %d bytes of text, %d of HTML: want all three", ev.Type, e.Subject, len(e.Text), len(e.HTML))
		}
		if e.IdempotencyKey != n.DeliveryID || e.Headers[email.HeaderDeliveryID] != n.DeliveryID {
			t.Errorf("%s: idempotency key %q, header %q, want %q", ev.Type, e.IdempotencyKey, e.Headers[email.HeaderDeliveryID], n.DeliveryID)
		}
		if e.From != testFrom || len(e.To) != 1 || e.To[0] != testTo {
			t.Errorf("%s: from %q to %q", ev.Type, e.From, e.To)
		}
		if len(e.Tags) != 2 || e.Tags[0] != (emailtest.Tag{Name: "event_type", Value: strings.ReplaceAll(ev.Type, ".", "_")}) {
			t.Errorf("%s: tags %+v", ev.Type, e.Tags)
		}
	}
}

// TestResendRetryIsOneEmail retries a send whose answer was lost: the same delivery id goes
// out as the same Idempotency-Key with the same body, so Resend answers with the first id
// and sends nothing more.
func TestResendRetryIsOneEmail(t *testing.T) {
	t.Parallel()
	fake := emailtest.NewResend(t, emailtest.WithRateLimit(0))
	ch := email.New(channeltest.NewClient(t), nil)
	n := channeltest.NotifyRaw(t, resendDest(fake), channeltest.SampleOf(t, "payment.failed"))

	fake.LoseNextResponse()
	if o := ch.Send(t.Context(), n); o.Kind != channel.Retry {
		t.Fatalf("first attempt: %+v, want retry (response lost)", o)
	}
	n.Attempt = 2
	if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
		t.Fatalf("second attempt: %+v, want delivered", o)
	}
	n.Attempt = 3
	if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
		t.Fatalf("third attempt: %+v, want delivered", o)
	}
	if got := len(fake.Emails()); got != 1 {
		t.Fatalf("fake sent %d emails for one delivery, want 1", got)
	}
	if got := fake.Requests(); got != 3 {
		t.Fatalf("fake got %d requests, want 3", got)
	}
}

func TestResendOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		fail       emailtest.APIError
		want       channel.Kind
		wantReason string
	}{
		{"validation_error", emailtest.APIError{StatusCode: 422, Name: "validation_error", Message: "Invalid `to` field."},
			channel.Permanent, "resend: HTTP 422 validation_error: Invalid `to` field."},
		{"invalid_from_address", emailtest.APIError{StatusCode: 422, Name: "invalid_from_address", Message: "Invalid `from` field."},
			channel.Permanent, "invalid_from_address"},
		{"restricted_api_key", emailtest.APIError{StatusCode: 401, Name: "restricted_api_key", Message: "This API key is restricted to only send emails."},
			channel.Permanent, "restricted_api_key"},
		{"domain not verified", emailtest.APIError{StatusCode: 403, Name: "validation_error", Message: "The herald.example domain is not verified."},
			channel.Permanent, "domain is not verified"},
		{"not_found", emailtest.APIError{StatusCode: 404, Name: "not_found", Message: "The requested endpoint does not exist."},
			channel.Permanent, "not_found"},
		{"invalid_idempotent_request", emailtest.APIError{StatusCode: 409, Name: "invalid_idempotent_request", Message: "Same idempotency key used with a different request payload."},
			channel.Permanent, "invalid_idempotent_request"},
		{"concurrent_idempotent_requests", emailtest.APIError{StatusCode: 409, Name: "concurrent_idempotent_requests", Message: "Same idempotency key used while original request is still in progress."},
			channel.Retry, "concurrent_idempotent_requests"},
		{"daily_quota_exceeded", emailtest.APIError{StatusCode: 429, Name: "daily_quota_exceeded", Message: "You have reached your daily email sending quota."},
			channel.Retry, "daily_quota_exceeded"},
		{"internal_server_error", emailtest.APIError{StatusCode: 500, Name: "internal_server_error", Message: "An unexpected error occurred."},
			channel.Retry, "HTTP 500"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := emailtest.NewResend(t, emailtest.WithRateLimit(0))
			logger, logs := debugLogger()
			ch := channeltest.Build(t, email.Provider{}, logger)
			fake.FailNext(c.fail)
			o := ch.Send(t.Context(), channeltest.NotifyRaw(t, resendDest(fake), channeltest.SampleOf(t, "payment.failed")))
			if o.Kind != c.want || o.StatusCode != c.fail.StatusCode {
				t.Fatalf("outcome %+v, want %s with status %d", o, c.want, c.fail.StatusCode)
			}
			if !strings.Contains(o.Reason, c.wantReason) {
				t.Errorf("reason %q does not contain %q", o.Reason, c.wantReason)
			}
			assertNoLeak(t, "reason", o.Reason, fake.APIKey())
			assertNoLeak(t, "log", logs.String(), fake.APIKey())
		})
	}
}

func TestResendAuthErrors(t *testing.T) {
	t.Parallel()
	fake := emailtest.NewResend(t, emailtest.WithRateLimit(0))
	ch := email.New(channeltest.NewClient(t), nil)
	d := resendDest(fake)
	const wrong = "re_wrong_key_0123456789abcdef"
	d.Config.(*email.Config).ResendAPIKey = wrong
	o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed")))
	if o.Kind != channel.Permanent || o.StatusCode != http.StatusForbidden || !strings.Contains(o.Reason, "invalid_api_key") {
		t.Fatalf("wrong key: %+v, want permanent 403 invalid_api_key", o)
	}
	assertNoLeak(t, "reason", o.Reason, wrong, fake.APIKey())
	if rej := fake.Rejected(); len(rej) != 1 || rej[0].Name != "invalid_api_key" {
		t.Fatalf("fake rejections %+v", rej)
	}
}

// TestResendRateLimit sends three emails at once with a frozen clock: the third meets the
// fake's 2-per-second limit and must come back as Retry with the wait and a Pause.
func TestResendRateLimit(t *testing.T) {
	t.Parallel()
	clock := &steppedClock{now: time.Unix(1_800_000_000, 0)}
	fake := emailtest.NewResend(t, emailtest.WithClock(clock.Now))
	ch := email.New(channeltest.NewClient(t), nil)
	d := resendDest(fake)
	var last channel.Outcome
	for i, typ := range []string{"payment.failed", "payment.succeeded", "tenant.created"} {
		last = ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, typ)))
		if i < 2 && last.Kind != channel.Delivered {
			t.Fatalf("send %d: %+v, want delivered", i, last)
		}
	}
	if last.Kind != channel.Retry || last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third send: %+v, want retry 429", last)
	}
	if last.RetryAfter < time.Second || last.Pause < time.Second {
		t.Errorf("third send: RetryAfter %s, Pause %s; want at least 1s each", last.RetryAfter, last.Pause)
	}
	if !strings.Contains(last.Reason, "rate_limit_exceeded") {
		t.Errorf("reason %q does not name rate_limit_exceeded", last.Reason)
	}
	clock.Step(time.Second)
	if o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "tenant.created"))); o.Kind != channel.Delivered {
		t.Fatalf("after the wait: %+v, want delivered", o)
	}
}

func TestResendPreview(t *testing.T) {
	t.Parallel()
	const key = "re_preview_0123456789"
	d := email.Destination("ops-mail", &email.Config{ResendAPIKey: key, From: testFrom, To: []string{testTo}})
	p, err := email.New(nil, nil).Preview(channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "node.terminated")))
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType != "application/json" {
		t.Errorf("content type %q", p.ContentType)
	}
	var body map[string]any
	if err := json.Unmarshal(p.Body, &body); err != nil {
		t.Fatalf("preview body is not JSON: %v", err)
	}
	if body["subject"] != p.Subject || body["html"] != p.HTML || body["text"] != p.Text {
		t.Error("preview fields differ from its body")
	}
	assertNoLeak(t, "preview", string(p.Body), key)
}

// BenchmarkResendPayload measures rendering and encoding one email (Preview shares that code
// with Send).
func BenchmarkResendPayload(b *testing.B) {
	d := email.Destination("ops-mail", &email.Config{ResendAPIKey: "re_bench_0123456789", From: testFrom, To: []string{testTo}})
	ch := email.New(nil, nil)
	n := channeltest.NotifyRaw(b, d, channeltest.SampleOf(b, "node.launched"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ch.Preview(n); err != nil {
			b.Fatal(err)
		}
	}
}

// cancelledContext is a context that is already done.
func cancelledContext(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx
}
