package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func newSecret(t testing.TB) string {
	t.Helper()
	s, err := sdk.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestWebhookConformance runs the suite every channel runs. The fake checks each request
// against the Standard Webhooks spec with the spec's own reference library:
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
func TestWebhookConformance(t *testing.T) {
	t.Parallel()
	secret := newSecret(t)
	token := "tok_" + randomHex(t, 16)
	sig := randomHex(t, 12)
	apiKey := "key_" + randomHex(t, 16)
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, webhook.Provider{}, logger)
			return ch, channel.Destination{ID: "ops-hook", Channel: webhook.Name, Config: &webhook.Config{
				URL:     baseURL + "/hooks/herald/" + token + "?sig=" + sig,
				Secret:  secret,
				Headers: map[string]string{"Authorization": "Bearer " + apiKey},
			}}
		},
		Secrets: []string{secret, token, sig, apiKey},
		Check: func(r *http.Request, body []byte) error {
			var errs []error
			if err := ref.Verify(body, r.Header); err != nil {
				errs = append(errs, fmt.Errorf("reference library: %w", err))
			}
			if r.Method != http.MethodPost {
				errs = append(errs, fmt.Errorf("method %s, want POST", r.Method))
			}
			if ct := r.Header.Get("Content-Type"); ct != webhook.ContentType {
				errs = append(errs, fmt.Errorf("Content-Type %q, want %q", ct, webhook.ContentType))
			}
			if ua := r.Header.Get("User-Agent"); ua != webhook.UserAgent {
				errs = append(errs, fmt.Errorf("User-Agent %q, want %q", ua, webhook.UserAgent))
			}
			if got := r.Header.Get("Authorization"); got != "Bearer "+apiKey {
				errs = append(errs, errors.New("extra Authorization header missing"))
			}
			ev, err := sdk.Decode(body)
			if err != nil {
				errs = append(errs, fmt.Errorf("body is not a valid CloudEvent: %w", err))
			} else if id := r.Header.Get(sdk.HeaderWebhookID); id != ev.ID+":ops-hook" {
				errs = append(errs, fmt.Errorf("webhook-id %q is not <event id>:<destination id>", id))
			}
			return errors.Join(errs...)
		},
	})
}

// capture is a loopback endpoint that records the last request and answers 204, as a
// Standard Webhooks consumer acknowledges a delivery with any 2xx:
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#delivery-success-and-failure
type capture struct {
	mu     sync.Mutex
	req    *http.Request
	body   []byte
	server *httptest.Server
}

func newCapture(t *testing.T) *capture {
	c := &capture{}
	c.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.req, c.body = r, body
		c.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.server.Close)
	return c
}

func (c *capture) last() (*http.Request, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.req, c.body
}

func TestWebhookRequest(t *testing.T) {
	t.Parallel()
	oldSecret, newSecretValue := newSecret(t), newSecret(t)
	c := newCapture(t)
	stamp := time.Now().Truncate(time.Second)
	ch := webhook.New(channeltest.NewClient(t), webhook.WithClock(func() time.Time { return stamp }))
	d := channel.Destination{ID: "tenant-hook", Channel: webhook.Name, Config: &webhook.Config{
		URL:     c.server.URL + "/in",
		Secret:  newSecretValue + " " + oldSecret, // mid-rotation
		Headers: map[string]string{"X-Tenant": "acme", "authorization": "Bearer abcdefgh"},
	}}
	if err := ch.Validate(d); err != nil {
		t.Fatal(err)
	}
	n := channeltest.SampleNotification(d)
	if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered || o.StatusCode != http.StatusNoContent {
		t.Fatalf("outcome = %+v, want delivered 204", o)
	}
	req, body := c.last()

	t.Run("body is the published event, unchanged", func(t *testing.T) {
		if string(body) != string(n.Raw) {
			t.Fatalf("body = %s, want %s", body, n.Raw)
		}
	})
	t.Run("headers", func(t *testing.T) {
		want := map[string]string{
			"Content-Type":             webhook.ContentType,
			"User-Agent":               webhook.UserAgent,
			sdk.HeaderWebhookID:        n.DeliveryID,
			sdk.HeaderWebhookTimestamp: fmt.Sprint(stamp.Unix()),
			"X-Tenant":                 "acme",
			"Authorization":            "Bearer abcdefgh",
		}
		for k, v := range want {
			if got := req.Header.Get(k); got != v {
				t.Errorf("%s = %q, want %q", k, got, v)
			}
		}
		if req.Method != http.MethodPost || req.URL.Path != "/in" {
			t.Errorf("request %s %s, want POST /in", req.Method, req.URL.Path)
		}
	})
	t.Run("each rotation secret verifies with the reference library", func(t *testing.T) {
		if sigs := strings.Fields(req.Header.Get(sdk.HeaderWebhookSignature)); len(sigs) != 2 {
			t.Fatalf("webhook-signature holds %d signatures, want 2", len(sigs))
		}
		for _, s := range []string{oldSecret, newSecretValue} {
			ref, err := standardwebhooks.NewWebhook(s)
			if err != nil {
				t.Fatal(err)
			}
			if err := ref.Verify(body, req.Header); err != nil {
				t.Errorf("reference library: %v", err)
			}
		}
	})
	t.Run("Herald's verifier accepts it", func(t *testing.T) {
		v, err := sdk.NewVerifier(oldSecret)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(req.Header, body); err != nil {
			t.Error(err)
		}
	})
}

func TestWebhookPUT(t *testing.T) {
	t.Parallel()
	c := newCapture(t)
	ch := webhook.New(channeltest.NewClient(t))
	d := channel.Destination{ID: "put", Config: &webhook.Config{URL: c.server.URL, Secret: newSecret(t), Method: "put"}}
	if err := ch.Validate(d); err != nil {
		t.Fatal(err)
	}
	if o := ch.Send(t.Context(), channeltest.SampleNotification(d)); o.Kind != channel.Delivered {
		t.Fatalf("outcome = %+v", o)
	}
	if req, _ := c.last(); req.Method != http.MethodPut {
		t.Fatalf("method = %s, want PUT", req.Method)
	}
}

func TestWebhookEncodesEventWithoutRaw(t *testing.T) {
	t.Parallel()
	c := newCapture(t)
	ch := webhook.New(channeltest.NewClient(t))
	d := webhook.Destination("d", c.server.URL, newSecret(t))
	n := channeltest.SampleNotification(d)
	n.Raw = nil
	if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
		t.Fatalf("outcome = %+v", o)
	}
	_, body := c.last()
	if ev, err := sdk.Decode(body); err != nil || ev.ID != n.Event.ID {
		t.Fatalf("body %s does not decode to the event: %v", body, err)
	}
}

// TestWebhookIDStableAcrossAttempts drives three attempts of one delivery, as JetStream
// redeliveries would, against a receiver that fails the first two.
func TestWebhookIDStableAcrossAttempts(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	rcv.FailFirst(2, http.StatusServiceUnavailable)
	rcv.RetryAfter("3")
	ch := webhook.New(channeltest.NewClient(t))
	d := rcv.Destination("stable")
	n := channeltest.SampleNotification(d)

	want := []channel.Kind{channel.Retry, channel.Retry, channel.Delivered}
	for i, k := range want {
		n.Attempt = i + 1
		o := ch.Send(t.Context(), n)
		if o.Kind != k {
			t.Fatalf("attempt %d: outcome = %+v, want %s", n.Attempt, o, k)
		}
		if k == channel.Retry && o.RetryAfter != 3*time.Second {
			t.Errorf("attempt %d: RetryAfter = %s, want 3s", n.Attempt, o.RetryAfter)
		}
	}
	if rcv.BadSignatures() != 0 || rcv.Unique() != 1 || rcv.Delivered() != 1 || rcv.Count() != 3 {
		t.Fatalf("receiver: bad=%d unique=%d delivered=%d count=%d, want 0 1 1 3",
			rcv.BadSignatures(), rcv.Unique(), rcv.Delivered(), rcv.Count())
	}
	reqs := rcv.ByID()[n.DeliveryID]
	if len(reqs) != 3 {
		t.Fatalf("ByID[%q] holds %d requests, want 3", n.DeliveryID, len(reqs))
	}
	for i, r := range reqs {
		if r.ID != n.DeliveryID || r.Attempt != i+1 || string(r.Body) != string(n.Raw) {
			t.Errorf("request %d: id %q attempt %d, want %q attempt %d with the same body", i, r.ID, r.Attempt, n.DeliveryID, i+1)
		}
	}
}

func TestWebhookWrongSecretIsRefused(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	ch := webhook.New(channeltest.NewClient(t))
	d := rcv.Destination("wrong")
	cfgOf(&d).Secret = newSecret(t) // not the receiver's
	o := ch.Send(t.Context(), channeltest.SampleNotification(d))
	if o.Kind != channel.Permanent || o.StatusCode != http.StatusUnauthorized {
		t.Fatalf("outcome = %+v, want permanent 401", o)
	}
	if rcv.BadSignatures() != 1 || rcv.Unique() != 0 {
		t.Fatalf("receiver: bad=%d unique=%d, want 1 0", rcv.BadSignatures(), rcv.Unique())
	}
}

func TestWebhookPermanentWithoutSending(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	ch := channeltest.Build(t, webhook.Provider{}, nil)
	secret := rcv.Secret()
	cases := map[string]func(*channel.Notification){
		"delivery id with a dot": func(n *channel.Notification) { n.DeliveryID = "evt.1:dest" },
		"no delivery id":         func(n *channel.Notification) { n.DeliveryID = "" },
		"bad secret":             func(n *channel.Notification) { cfgOf(&n.Destination).Secret = "whsec_" + strings.Repeat("!", 40) },
		"secret too short":       func(n *channel.Notification) { cfgOf(&n.Destination).Secret = "whsec_c2hvcnQ=" },
		"method DELETE":          func(n *channel.Notification) { cfgOf(&n.Destination).Method = "DELETE" },
		"reserved header":        func(n *channel.Notification) { cfgOf(&n.Destination).Headers = map[string]string{"Webhook-Id": "x"} },
		"header with newline":    func(n *channel.Notification) { cfgOf(&n.Destination).Headers = map[string]string{"X-A": "a\r\nb"} },
		"ftp url":                func(n *channel.Notification) { cfgOf(&n.Destination).URL = "ftp://example.com/x" },
		"no event":               func(n *channel.Notification) { n.Raw, n.Event = nil, nil },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			n := channeltest.SampleNotification(rcv.Destination("d"))
			mutate(&n)
			o := ch.Send(t.Context(), n)
			if o.Kind != channel.Permanent || o.Reason == "" {
				t.Fatalf("outcome = %+v, want permanent with a reason", o)
			}
			if strings.Contains(o.Reason, strings.TrimPrefix(secret, sdk.WebhookSecretPrefix)) {
				t.Fatalf("reason leaks the secret: %s", o.Reason)
			}
		})
	}
	if rcv.Count() != 0 {
		t.Fatalf("receiver got %d requests, want none", rcv.Count())
	}
}

func TestWebhookValidate(t *testing.T) {
	t.Parallel()
	ch := webhook.New(channeltest.NewClient(t))
	secret := newSecret(t)
	ok := webhook.Destination("d", "https://example.com/hook", secret)
	cases := []struct {
		name   string
		mutate func(*channel.Destination)
		valid  bool
	}{
		{"valid", func(*channel.Destination) {}, true},
		{"http", func(d *channel.Destination) { cfgOf(d).URL = "http://10.0.0.1:8080/hook" }, true},
		{"PUT", func(d *channel.Destination) { cfgOf(d).Method = "PUT" }, true},
		{"post lower case", func(d *channel.Destination) { cfgOf(d).Method = "post" }, true},
		{"extra headers", func(d *channel.Destination) {
			cfgOf(d).Headers = map[string]string{"Authorization": "Bearer x", "X-Env": "prod"}
		}, true},
		{"rotation", func(d *channel.Destination) { cfgOf(d).Secret = secret + " " + newSecret(t) }, true},
		{"no channel name", func(d *channel.Destination) { d.Channel = "" }, true},
		{"other channel", func(d *channel.Destination) { d.Channel = "slack" }, false},
		{"no url", func(d *channel.Destination) { cfgOf(d).URL = "" }, false},
		{"relative url", func(d *channel.Destination) { cfgOf(d).URL = "/hook" }, false},
		{"ftp url", func(d *channel.Destination) { cfgOf(d).URL = "ftp://example.com/hook" }, false},
		{"bad url", func(d *channel.Destination) { cfgOf(d).URL = "https://exa mple.com/%zz" }, false},
		{"no secret", func(d *channel.Destination) { cfgOf(d).Secret = "" }, false},
		{"secret without prefix", func(d *channel.Destination) { cfgOf(d).Secret = strings.TrimPrefix(secret, "whsec_") }, false},
		{"GET", func(d *channel.Destination) { cfgOf(d).Method = "GET" }, false},
		{"id with dot", func(d *channel.Destination) { d.ID = "a.b" }, false},
		{"webhook-signature header", func(d *channel.Destination) {
			cfgOf(d).Headers = map[string]string{"webhook-signature": "v1,x"}
		}, false},
		{"webhook-anything header", func(d *channel.Destination) { cfgOf(d).Headers = map[string]string{"Webhook-Foo": "x"} }, false},
		{"content-type header", func(d *channel.Destination) { cfgOf(d).Headers = map[string]string{"content-type": "text/plain"} }, false},
		{"host header", func(d *channel.Destination) { cfgOf(d).Headers = map[string]string{"Host": "evil"} }, false},
		{"header name with space", func(d *channel.Destination) { cfgOf(d).Headers = map[string]string{"X Bad": "x"} }, false},
		{"empty header name", func(d *channel.Destination) { cfgOf(d).Headers = map[string]string{"": "x"} }, false},
		{"header value with newline", func(d *channel.Destination) { cfgOf(d).Headers = map[string]string{"X-A": "a\nInjected: 1"} }, false},
		{"header value too long", func(d *channel.Destination) {
			cfgOf(d).Headers = map[string]string{"X-A": strings.Repeat("a", 5000)}
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := ok
			c.mutate(&d)
			err := ch.Validate(d)
			if c.valid {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, channel.ErrInvalidDestination) {
				t.Fatalf("Validate = %v, want ErrInvalidDestination", err)
			}
			for _, s := range d.Secrets() {
				if strings.Contains(err.Error(), s) {
					t.Fatalf("error %q leaks a secret", err)
				}
			}
		})
	}
}

func TestWebhookValidateSecretNeverInError(t *testing.T) {
	t.Parallel()
	ch := webhook.New(channeltest.NewClient(t))
	// Valid base64 but too short, then not base64 at all: both must be refused without
	// quoting them.
	for _, s := range []string{"whsec_dG9vLXNob3J0LXNlY3JldA==", "whsec_not/base64/at*all*but-long-enough"} {
		err := ch.Validate(webhook.Destination("d", "https://example.com/x", s))
		if err == nil || strings.Contains(err.Error(), strings.TrimPrefix(s, "whsec_")) {
			t.Fatalf("Validate(%q) = %v: want an error that does not quote the secret", s, err)
		}
	}
}

func TestWebhookSlowReceiverHonoursContext(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	release := make(chan struct{})
	rcv.Respond(func(r *http.Request, _ []byte, _ int) int {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return http.StatusOK
	})
	t.Cleanup(func() { close(release) }) // runs before the receiver closes
	ch := webhook.New(channeltest.NewClient(t))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	o := ch.Send(ctx, channeltest.SampleNotification(rcv.Destination("slow")))
	if o.Kind != channel.Retry || !strings.Contains(o.Reason, "timeout") {
		t.Fatalf("outcome = %+v, want a retry naming the timeout", o)
	}
}

func TestWebhookLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	rcv := webhooktest.NewReceiver(t, "")
	ch := channeltest.Build(t, webhook.Provider{}, logger)
	d := rcv.Destination("logged")
	cfgOf(&d).URL += "/a/b/secret-path-token?key=secret-query-value"
	ch.Send(t.Context(), channeltest.SampleNotification(d))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil {
		t.Fatalf("log %q: %v", out, err)
	}
	if line["channel"] != "webhook" || line["delivery_id"] == nil || line["outcome"] != "delivered" {
		t.Errorf("log line lacks channel, delivery_id or outcome: %s", out)
	}
	for _, s := range []string{"secret-path-token", "secret-query-value", strings.TrimPrefix(rcv.Secret(), "whsec_")} {
		if strings.Contains(out, s) {
			t.Errorf("log leaks %q: %s", s, out)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func BenchmarkWebhookSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	client := channel.NewHTTPClient(5 * time.Second)
	defer client.CloseIdleConnections()
	ch := webhook.New(client)
	d := webhook.Destination("bench", srv.URL+"/hook", newSecret(b))
	n := channeltest.SampleNotification(d)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(n.Raw)))
	for b.Loop() {
		if o := ch.Send(ctx, n); o.Kind != channel.Delivered {
			b.Fatalf("outcome = %+v", o)
		}
	}
}

// cfgOf gives d a copy of its webhook configuration and returns it, for a test to change
// without touching the destination it was copied from.
func cfgOf(d *channel.Destination) *webhook.Config {
	c := *d.Config.(*webhook.Config)
	d.Config = &c
	return &c
}
