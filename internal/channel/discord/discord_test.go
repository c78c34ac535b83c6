package discord_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/discord"
	"github.com/heraldhq/herald/internal/channel/discord/discordtest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testToken = "Xb3kT9-q_TOKEN_e2F7hJ0pLmN4sV8wY1zC5uR6iO2aD3fG7kH9jQ0lM1nB4vX6cZ8"

// TestDiscordConformance runs the suite every channel runs. Each request is checked with the
// fake Discord's own validator, so the suite's fake refuses what discordtest refuses.
func TestDiscordConformance(t *testing.T) {
	t.Parallel()
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, discord.Provider{}, logger)
			return ch, discord.Destination("ops-discord", baseURL+"/api/webhooks/112233445566778899/"+testToken)
		},
		Secrets: []string{testToken},
		Check: func(r *http.Request, body []byte) error {
			var errs []error
			if err := discordtest.CheckRequest(r, body); err != nil {
				errs = append(errs, err)
			}
			if r.URL.Query().Get("wait") != "true" {
				errs = append(errs, errors.New("request does not ask ?wait=true"))
			}
			if ua := r.Header.Get("User-Agent"); ua != discord.UserAgent {
				errs = append(errs, fmt.Errorf("User-Agent %q, want %q", ua, discord.UserAgent))
			}
			return errors.Join(errs...)
		},
		Accept: func(w http.ResponseWriter, _ *http.Request, status int) {
			if status == http.StatusNoContent {
				w.WriteHeader(status)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"id":"1300000000000000001","channel_id":"1","embeds":[]}`))
		},
	})
}

// TestSamplesAgainstFakeDiscord sends every sample event and checks that Discord would have
// taken each, and that what it got is what Preview shows.
func TestSamplesAgainstFakeDiscord(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t, discordtest.WithBucket(100, time.Minute))
	ch := discord.New(channeltest.NewClient(t), nil)
	d := discord.Destination("samples", fake.WebhookURL())
	samples := render.Samples()
	for _, ev := range samples {
		n := channeltest.NotifyRaw(t, d, ev)
		o := ch.Send(t.Context(), n)
		if o.Kind != channel.Delivered || o.StatusCode != http.StatusOK {
			t.Fatalf("%s: outcome = %+v, want delivered 200", ev.Type, o)
		}
	}
	if bad := fake.Invalid(); len(bad) > 0 {
		for _, r := range bad {
			t.Errorf("Discord would refuse: %v", r.Err)
		}
	}
	msgs := fake.Messages()
	if len(msgs) != len(samples) {
		t.Fatalf("fake got %d messages, want %d", len(msgs), len(samples))
	}
	for i, m := range msgs {
		ev := samples[i]
		p, err := ch.Preview(channeltest.NotifyRaw(t, d, ev))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Body, p.Body) {
			t.Errorf("%s: Send posted\n%s\nPreview shows\n%s", ev.Type, m.Body, p.Body)
		}
		if m.Username != discord.Username || m.AllowedMentions == nil || m.AllowedMentions.Parse == nil || len(m.AllowedMentions.Parse) != 0 {
			t.Errorf("%s: username %q, allowed_mentions %+v; want Herald and parse []", ev.Type, m.Username, m.AllowedMentions)
		}
		if len(m.Embeds) != 1 || m.Embeds[0].Title == "" || m.Embeds[0].Color == nil || m.Embeds[0].Timestamp != ev.Time.UTC().Format(time.RFC3339) {
			t.Errorf("%s: embed = %+v", ev.Type, m.Embeds)
		}
		if !m.Wait {
			t.Errorf("%s: sent without ?wait=true", ev.Type)
		}
	}
}

func TestSeverityColours(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t, discordtest.WithBucket(100, time.Minute))
	ch := discord.New(channeltest.NewClient(t), nil)
	want := map[sdk.Severity]int{sdk.SeverityInfo: 0x3B82F6, sdk.SeverityWarning: 0xF59E0B, sdk.SeverityCritical: 0xEF4444}
	for sev, colour := range want {
		ev, err := sdk.New("order.shipped", "acme", json.RawMessage(`{"a":1}`), sdk.WithSeverity(sev))
		if err != nil {
			t.Fatal(err)
		}
		if o := ch.Send(t.Context(), channeltest.NotifyRaw(t, discord.Destination("c", fake.WebhookURL()), ev)); o.Kind != channel.Delivered {
			t.Fatalf("%s: %+v", sev, o)
		}
		msgs := fake.Messages()
		if got := *msgs[len(msgs)-1].Embeds[0].Color; got != colour {
			t.Errorf("%s: colour %#x, want %#x", sev, got, colour)
		}
	}
}

func TestRateLimited(t *testing.T) {
	t.Parallel()
	// A bucket of one per minute: the first send empties it, the second is refused.
	fake := discordtest.NewServer(t, discordtest.WithBucket(1, time.Minute))
	ch := discord.New(channeltest.NewClient(t), nil)
	n := channeltest.SampleNotification(discord.Destination("rl", fake.WebhookURL()))

	first := ch.Send(t.Context(), n)
	if first.Kind != channel.Delivered {
		t.Fatalf("first: %+v", first)
	}
	if first.Pause <= 50*time.Second || first.Pause > time.Minute {
		t.Errorf("first: Pause = %s, want the bucket's reset-after (just under 1m)", first.Pause)
	}
	second := ch.Send(t.Context(), n)
	if second.Kind != channel.Retry || second.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second: %+v, want retry 429", second)
	}
	if second.RetryAfter <= 50*time.Second || second.RetryAfter > time.Minute {
		t.Errorf("second: RetryAfter = %s, want retry_after (just under 1m)", second.RetryAfter)
	}
	if second.Pause < second.RetryAfter {
		t.Errorf("second: Pause = %s, want at least RetryAfter %s", second.Pause, second.RetryAfter)
	}
	if !strings.Contains(second.Reason, "rate limited") {
		t.Errorf("second: reason %q does not say rate limited", second.Reason)
	}
	if fake.RateLimited() != 1 || len(fake.Invalid()) != 0 {
		t.Errorf("fake: rate limited %d, invalid %d; want 1, 0", fake.RateLimited(), len(fake.Invalid()))
	}
}

func TestResponses(t *testing.T) {
	t.Parallel()
	rl := func(remaining, resetAfter string) http.Header {
		return http.Header{"X-Ratelimit-Remaining": {remaining}, "X-Ratelimit-Reset-After": {resetAfter}, "X-Ratelimit-Limit": {"5"}}
	}
	jsonHeader := func(h http.Header) http.Header {
		if h == nil {
			h = http.Header{}
		}
		h.Set("Content-Type", "application/json")
		return h
	}
	cases := []struct {
		name           string
		resp           discordtest.Response
		want           channel.Kind
		wantRetryAfter time.Duration
		wantPause      time.Duration
		reasonHas      []string
	}{
		{name: "200 with bucket left", resp: discordtest.Response{Status: 200, Header: rl("3", "1.2")}, want: channel.Delivered},
		{name: "200 emptying the bucket", resp: discordtest.Response{Status: 200, Header: rl("0", "1.25")},
			want: channel.Delivered, wantPause: 1250 * time.Millisecond},
		{name: "204 emptying the bucket", resp: discordtest.Response{Status: 204, Header: rl("0", "0.4")},
			want: channel.Delivered, wantPause: 400 * time.Millisecond},
		{name: "429 retry_after beats the rounded header", resp: discordtest.Response{Status: 429,
			Header: jsonHeader(http.Header{"Retry-After": {"2"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"1.5"}}),
			Body:   `{"message":"You are being rate limited.","retry_after":1.5,"global":false}`},
			want: channel.Retry, wantRetryAfter: 1500 * time.Millisecond, wantPause: 1500 * time.Millisecond, reasonHas: []string{"rate limited"}},
		{name: "429 global", resp: discordtest.Response{Status: 429, Header: jsonHeader(nil),
			Body: `{"message":"You are being rate limited.","retry_after":0.25,"global":true}`},
			want: channel.Retry, wantRetryAfter: 250 * time.Millisecond, wantPause: 250 * time.Millisecond, reasonHas: []string{"global"}},
		{name: "429 header only", resp: discordtest.Response{Status: 429, Header: http.Header{"Retry-After": {"3"}}},
			want: channel.Retry, wantRetryAfter: 3 * time.Second, wantPause: 3 * time.Second},
		{name: "429 without any hint pauses a window", resp: discordtest.Response{Status: 429},
			want: channel.Retry, wantPause: discord.DefaultPaceEvery * discord.DefaultPaceBurst},
		{name: "400 invalid form body", resp: discordtest.Response{Status: 400, Header: jsonHeader(nil),
			Body: `{"code":50035,"message":"Invalid Form Body","errors":{"embeds":{"0":{"title":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 256 or fewer in length."}]}}}}}`},
			want: channel.Permanent, reasonHas: []string{"50035", "Invalid Form Body", "embeds.0.title: Must be 256 or fewer in length."}},
		{name: "404 unknown webhook", resp: discordtest.Response{Status: 404, Header: jsonHeader(nil), Body: `{"message":"Unknown Webhook","code":10015}`},
			want: channel.Permanent, reasonHas: []string{"10015", "Unknown Webhook"}},
		{name: "401", resp: discordtest.Response{Status: 401, Header: jsonHeader(nil), Body: `{"message":"401: Unauthorized","code":0}`},
			want: channel.Permanent, reasonHas: []string{"401: Unauthorized"}},
		{name: "403", resp: discordtest.Response{Status: 403, Header: jsonHeader(nil), Body: `{"message":"Missing Access","code":50001}`},
			want: channel.Permanent, reasonHas: []string{"Missing Access"}},
		{name: "400 with remaining 0 still pauses", resp: discordtest.Response{Status: 400, Header: jsonHeader(rl("0", "0.75")),
			Body: `{"code":50006,"message":"Cannot send an empty message"}`},
			want: channel.Permanent, wantPause: 750 * time.Millisecond, reasonHas: []string{"Cannot send an empty message"}},
		{name: "500", resp: discordtest.Response{Status: 500, Body: "upstream exploded"}, want: channel.Retry, reasonHas: []string{"HTTP 500"}},
		{name: "502 HTML", resp: discordtest.Response{Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>bad gateway</html>"},
			want: channel.Retry, reasonHas: []string{"HTTP 502"}},
		{name: "garbage reset-after", resp: discordtest.Response{Status: 200, Header: rl("0", "soon")}, want: channel.Delivered},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fake := discordtest.NewServer(t)
			fake.RespondNext(c.resp)
			ch := discord.New(channeltest.NewClient(t), nil)
			d := discord.Destination("r", fake.WebhookURL())
			o := ch.Send(t.Context(), channeltest.SampleNotification(d))
			if o.Kind != c.want || o.StatusCode != c.resp.Status {
				t.Fatalf("outcome = %+v, want %s with status %d", o, c.want, c.resp.Status)
			}
			if o.RetryAfter != c.wantRetryAfter {
				t.Errorf("RetryAfter = %s, want %s", o.RetryAfter, c.wantRetryAfter)
			}
			if o.Pause != c.wantPause {
				t.Errorf("Pause = %s, want %s", o.Pause, c.wantPause)
			}
			for _, s := range c.reasonHas {
				if !strings.Contains(o.Reason, s) {
					t.Errorf("reason %q lacks %q", o.Reason, s)
				}
			}
			channeltest.CheckNoSecrets(t, "reason", o.Reason, append(d.Secrets(), fake.Webhook().Token)...)
		})
	}
}

// TestWrongTokenIsPermanent runs against the fake's real routing: a deleted webhook or a
// wrong token is "Unknown Webhook", and no retry will change that.
func TestWrongTokenIsPermanent(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t)
	ch := discord.New(channeltest.NewClient(t), nil)
	d := discord.Destination("wrong", fake.WebhookURL())
	cfg := cfgOf(&d)
	cfg.WebhookURL = strings.TrimSuffix(cfg.WebhookURL, fake.Webhook().Token) + "notTheRightToken123"
	o := ch.Send(t.Context(), channeltest.SampleNotification(d))
	if o.Kind != channel.Permanent || o.StatusCode != http.StatusNotFound || !strings.Contains(o.Reason, "Unknown Webhook") {
		t.Fatalf("outcome = %+v, want permanent 404 Unknown Webhook", o)
	}
	if strings.Contains(o.Reason, "notTheRightToken123") || strings.Contains(o.Reason, fake.Webhook().Token) {
		t.Fatalf("reason leaks a token: %s", o.Reason)
	}
}

// TestDiscordEchoingTheTokenIsRedacted has Discord quote the request URL in its message.
func TestDiscordEchoingTheTokenIsRedacted(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t)
	wh := fake.Webhook()
	fake.FailNext(http.StatusBadRequest, `{"code":50035,"message":"Invalid Form Body for `+wh.URL+` token `+wh.Token+`","errors":{"`+wh.Token+`":{"_errors":[{"code":"X","message":"`+wh.Token+`"}]}}}`)
	ch := channeltest.Build(t, discord.Provider{}, nil)
	o := ch.Send(t.Context(), channeltest.SampleNotification(discord.Destination("echo", fake.WebhookURL())))
	if o.Kind != channel.Permanent {
		t.Fatalf("outcome = %+v", o)
	}
	if strings.Contains(o.Reason, wh.Token) || strings.Contains(o.Reason, wh.Token[:10]) {
		t.Fatalf("reason leaks the token: %s", o.Reason)
	}
}

func TestPermanentWithoutSending(t *testing.T) {
	t.Parallel()
	fake := discordtest.NewServer(t)
	ch := discord.New(channeltest.NewClient(t), nil)
	cases := map[string]func(*channel.Notification){
		"no event": func(n *channel.Notification) { n.Event = nil },
		"slack url": func(n *channel.Notification) {
			cfgOf(&n.Destination).WebhookURL = fake.URL + "/services/T0/B0/XXXXXXXX"
		},
		"github-style url": func(n *channel.Notification) { cfgOf(&n.Destination).WebhookURL += "/github" },
		"ftp url": func(n *channel.Notification) {
			cfgOf(&n.Destination).WebhookURL = "ftp://discord.com/api/webhooks/1/abc"
		},
		"undecodable data": func(n *channel.Notification) {
			ev := *n.Event
			ev.Data = json.RawMessage(`{"broken":`)
			n.Event = &ev
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			n := channeltest.SampleNotification(discord.Destination("d", fake.WebhookURL()))
			mutate(&n)
			o := ch.Send(t.Context(), n)
			if o.Kind != channel.Permanent || o.Reason == "" {
				t.Fatalf("outcome = %+v, want permanent with a reason", o)
			}
			if strings.Contains(o.Reason, fake.Webhook().Token) {
				t.Fatalf("reason leaks the token: %s", o.Reason)
			}
			if _, err := ch.Preview(n); err == nil && name != "slack url" && name != "github-style url" && name != "ftp url" {
				t.Errorf("Preview succeeded where Send failed")
			}
		})
	}
	if fake.Requests() != 0 {
		t.Fatalf("fake got %d requests, want none", fake.Requests())
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	ch := discord.New(channeltest.NewClient(t), nil)
	const tok = "AbCdEf_123-xyzTOKENvalue"
	ok := discord.Destination("d", "https://discord.com/api/webhooks/123456789012345678/"+tok)
	cases := []struct {
		name  string
		url   string
		other func(*channel.Destination)
		valid bool
	}{
		{name: "discord.com", url: ok.Config.(*discord.Config).WebhookURL, valid: true},
		{name: "versioned", url: "https://discord.com/api/v10/webhooks/123456789012345678/" + tok, valid: true},
		{name: "discordapp.com", url: "https://discordapp.com/api/webhooks/1/" + tok, valid: true},
		{name: "ptb", url: "https://ptb.discord.com/api/webhooks/1/" + tok, valid: true},
		{name: "canary", url: "https://canary.discord.com/api/webhooks/1/" + tok, valid: true},
		{name: "loopback fake", url: "http://127.0.0.1:8080/api/webhooks/1/" + tok, valid: true},
		{name: "thread_id query", url: ok.Config.(*discord.Config).WebhookURL + "?thread_id=42", valid: true},
		{name: "no channel name", url: ok.Config.(*discord.Config).WebhookURL, other: func(d *channel.Destination) { d.Channel = "" }, valid: true},
		{name: "other channel", url: ok.Config.(*discord.Config).WebhookURL, other: func(d *channel.Destination) { d.Channel = "slack" }},
		{name: "empty", url: ""},
		{name: "relative", url: "/api/webhooks/1/" + tok},
		{name: "ftp", url: "ftp://discord.com/api/webhooks/1/" + tok},
		{name: "no token", url: "https://discord.com/api/webhooks/123456789012345678"},
		{name: "empty token", url: "https://discord.com/api/webhooks/123456789012345678/"},
		{name: "id not numeric", url: "https://discord.com/api/webhooks/abc/" + tok},
		{name: "slack path", url: "https://discord.com/api/webhooks/1/" + tok + "/slack"},
		{name: "other path", url: "https://discord.com/webhooks/1/" + tok},
		{name: "encoded token", url: "https://discord.com/api/webhooks/1/" + tok + "%2F"},
		{name: "user info", url: "https://user:" + tok + "@discord.com/api/webhooks/1/" + tok},
		{name: "unparsable", url: "https://disc ord.com/api/webhooks/1/" + tok + "%zz"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := ok
			cfgOf(&d).WebhookURL = c.url
			if c.other != nil {
				c.other(&d)
			}
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
			var fe *channel.FieldError
			if d.Channel == "discord" && (!errors.As(err, &fe) || fe.Field != "webhook_url") {
				t.Errorf("Validate = %v, want a FieldError for webhook_url", err)
			}
			if strings.Contains(err.Error(), tok) {
				t.Fatalf("error %q leaks the token", err)
			}
		})
	}
}

func TestValidateAllowedHosts(t *testing.T) {
	t.Parallel()
	ch := discord.New(channeltest.NewClient(t), nil, discord.WithAllowedHosts(discord.ProductionHosts...))
	for url, valid := range map[string]bool{
		"https://discord.com/api/webhooks/1/tok":              true,
		"https://Canary.Discord.com/api/webhooks/1/tok":       true,
		"https://discord.com:443/api/webhooks/1/tok":          true,
		"http://127.0.0.1:8080/api/webhooks/1/tok":            false,
		"https://discord.com.evil.example/api/webhooks/1/tok": false,
	} {
		err := ch.Validate(discord.Destination("d", url))
		if (err == nil) != valid {
			t.Errorf("Validate(%s) = %v, want valid %v", url, err, valid)
		}
	}
}

func TestPace(t *testing.T) {
	t.Parallel()
	d := discord.Destination("d", "https://discord.com/api/webhooks/123456789012345678/"+testToken)
	p := discord.New(nil, nil).Pace(d)
	want := channel.Pace{Key: "discord:123456789012345678", Every: 400 * time.Millisecond, Burst: 5}
	if p != want {
		t.Fatalf("Pace = %+v, want %+v", p, want)
	}
	same := d
	same.ID = "other"
	cfgOf(&same).WebhookURL = "https://discord.com/api/v10/webhooks/123456789012345678/" + testToken
	if q := discord.New(nil, nil).Pace(same); q.Key != p.Key {
		t.Errorf("same webhook, other destination: key %q, want %q", q.Key, p.Key)
	}
	p = discord.New(nil, nil, discord.WithPace(time.Second, 2)).Pace(d)
	if p.Every != time.Second || p.Burst != 2 || p.Key != want.Key {
		t.Errorf("WithPace: %+v", p)
	}
	bad := discord.New(nil, nil).Pace(discord.Destination("x", "https://example.com/hooks/"+testToken))
	if !strings.HasPrefix(bad.Key, "discord:") || strings.Contains(bad.Key, testToken) {
		t.Errorf("invalid destination: key %q", bad.Key)
	}
}

func TestPreview(t *testing.T) {
	t.Parallel()
	ch := discord.New(nil, nil)
	ev := render.Samples()[2] // payment.failed
	p, err := ch.Preview(channeltest.NotifyRaw(t, discord.Destination("d", "https://discord.com/api/webhooks/1/tok"), ev))
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType != "application/json" || !json.Valid(p.Body) {
		t.Fatalf("preview: content type %q, body %s", p.ContentType, p.Body)
	}
	if err := discordtest.ValidatePayload(p.Body); err != nil {
		t.Fatal(err)
	}
	var body struct {
		Embeds []struct{ Title string } `json:"embeds"`
	}
	if err := json.Unmarshal(p.Body, &body); err != nil || len(body.Embeds) != 1 || !strings.HasPrefix(p.Text, body.Embeds[0].Title) {
		t.Errorf("plain text %q does not start with the title (%v)", p.Text, err)
	}
}

// TestGolden pins the exact payload of every sample event. The files hold the body indented
// (json.Indent changes no string), and the body itself must equal their compact form. After a
// template change, regenerate with: go test ./internal/channel/discord -update
func TestGolden(t *testing.T) {
	ch := discord.New(nil, nil)
	d := discord.Destination("golden", "https://discord.com/api/webhooks/1/tok")
	for _, ev := range render.Samples() {
		p, err := ch.Preview(channeltest.NotifyRaw(t, d, ev))
		if err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		path := filepath.Join("testdata", "golden", ev.Type+".json")
		want := channeltest.GoldenJSON(t, path, p.Body, *update)
		var compact bytes.Buffer
		if err := json.Compact(&compact, want); err == nil && !bytes.Equal(compact.Bytes(), p.Body) {
			t.Errorf("%s: the body is not the compact form of %s", ev.Type, path)
		}
	}
}

func TestLogsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	fake := discordtest.NewServer(t)
	ch := channeltest.Build(t, discord.Provider{}, logger)
	ch.Send(t.Context(), channeltest.SampleNotification(discord.Destination("logged", fake.WebhookURL())))
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	var line map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &line); err != nil {
		t.Fatalf("log %q: %v", out, err)
	}
	if line["channel"] != "discord" || line["outcome"] != "delivered" || line["delivery_id"] == nil {
		t.Errorf("log line lacks channel, outcome or delivery_id: %s", out)
	}
	if strings.Contains(out, fake.Webhook().Token) {
		t.Errorf("log leaks the token: %s", out)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// cfgOf gives d a copy of its Discord configuration and returns it, for a test to change
// without touching the destination it was copied from.
func cfgOf(d *channel.Destination) *discord.Config {
	c := *d.Config.(*discord.Config)
	d.Config = &c
	return &c
}
