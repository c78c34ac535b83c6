package slack_test

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/slack"
	"github.com/heraldhq/herald/internal/channel/slack/slacktest"
	"github.com/heraldhq/herald/internal/render"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSlackConformance runs the suite every channel runs, with slacktest's validator as the
// provider's contract: every request must be one Slack accepts, with no markup warnings.
func TestSlackConformance(t *testing.T) {
	t.Parallel()
	const token = "xoxhooktoken0123456789AB"
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, slack.Provider{}, logger)
			return ch, channel.Destination{
				ID: "ops-slack", Channel: slack.Name, Config: &slack.Config{WebhookURL: baseURL + "/services/T0HERALD/B0HERALD/" + token},
			}
		},
		Secrets: []string{token},
		Check: func(r *http.Request, body []byte) error {
			if err := slacktest.CheckRequest(r, body); err != nil {
				return err
			}
			p, _ := slacktest.ValidatePayload(body)
			if len(p.Warnings) > 0 {
				return fmt.Errorf("markup warnings: %s", strings.Join(p.Warnings, "; "))
			}
			return nil
		},
		Accept: func(w http.ResponseWriter, _ *http.Request, status int) {
			if status != http.StatusOK {
				w.WriteHeader(status)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, "ok")
		},
	})
}

// TestSamplesDeliveredToFakeSlack sends every sample event to the fake and expects each to be
// accepted without a rejection or a markup warning.
func TestSamplesDeliveredToFakeSlack(t *testing.T) {
	t.Parallel()
	srv := slacktest.NewServer(t, slacktest.WithoutRateLimit())
	ch := slack.New(channeltest.NewClient(t), nil)
	d := slack.Destination("alerts", srv.NewWebhook("alerts"))
	samples := render.Samples()
	for i, ev := range samples {
		if o := ch.Send(t.Context(), channeltest.Sample(d, i)); o.Kind != channel.Delivered || o.StatusCode != http.StatusOK {
			t.Errorf("%s: outcome = %+v, want delivered 200", ev.Type, o)
		}
	}
	for _, r := range srv.Rejected() {
		t.Errorf("fake Slack rejected a request: %d %s: %s", r.Status, r.Code, r.Reason)
	}
	msgs := srv.Messages()
	if len(msgs) != len(samples) {
		t.Fatalf("fake Slack accepted %d messages, want %d", len(msgs), len(samples))
	}
	for i, m := range msgs {
		if len(m.Payload.Warnings) > 0 {
			t.Errorf("%s: markup warnings: %v", samples[i].Type, m.Payload.Warnings)
		}
		if m.Channel != "alerts" || m.Payload.Header() == "" || m.Payload.Text == "" {
			t.Errorf("%s: message in %q with header %q and text %q", samples[i].Type, m.Channel, m.Payload.Header(), m.Payload.Text)
		}
		if !strings.Contains(m.Payload.AllText(), "<!date^") {
			t.Errorf("%s: no event time in the message", samples[i].Type)
		}
	}
}

// TestSlackErrorCodes checks each documented error answer's outcome; the reason names the
// status and the code and never the webhook's token.
// https://api.slack.com/messaging/webhooks#handling_errors
// https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks
func TestSlackErrorCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status int
		code   string
		want   channel.Kind
	}{
		{400, "invalid_payload", channel.Permanent},
		{400, "user_not_found", channel.Permanent},
		{404, "channel_not_found", channel.Permanent},
		{410, "channel_is_archived", channel.Permanent},
		{403, "action_prohibited", channel.Permanent},
		{403, "posting_to_general_channel_denied", channel.Permanent},
		{400, "too_many_attachments", channel.Permanent},
		{404, "no_service", channel.Permanent},
		{410, "no_active_hooks", channel.Permanent},
		{404, "no_team", channel.Permanent},
		{403, "team_disabled", channel.Permanent},
		{403, "invalid_token", channel.Permanent},
		{400, "invalid_blocks", channel.Permanent},
		{500, "rollup_error", channel.Retry},
		{400, "rollup_error", channel.Retry},
		{500, "", channel.Retry},
		{502, "<html>bad gateway</html>", channel.Retry},
		{503, "service_unavailable", channel.Retry},
		{400, "something_new", channel.Permanent},
	}
	srv := slacktest.NewServer(t, slacktest.WithoutRateLimit())
	ch := slack.New(channeltest.NewClient(t), nil)
	d := slack.Destination("codes", srv.NewWebhook("codes"))
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d %s", c.status, c.code), func(t *testing.T) {
			srv.FailNext(c.status, c.code)
			o := ch.Send(t.Context(), channeltest.Sample(d, 0))
			if o.Kind != c.want || o.StatusCode != c.status {
				t.Fatalf("outcome = %+v, want %s with status %d", o, c.want, c.status)
			}
			if !strings.Contains(o.Reason, fmt.Sprint(c.status)) || (c.code != "" && !strings.Contains(o.Reason, strings.Trim(c.code, "<>/"))) {
				t.Errorf("reason %q does not name status %d and code %q", o.Reason, c.status, c.code)
			}
			if o.Pause != 0 {
				t.Errorf("Pause = %s, want 0 outside a 429", o.Pause)
			}
			channeltest.CheckNoSecrets(t, "reason", o.Reason, d.Secrets()...)
		})
	}
}

// TestSlackRateLimited checks that a 429 is retried after its Retry-After and pauses the
// webhook for as long. https://api.slack.com/apis/rate-limits
func TestSlackRateLimited(t *testing.T) {
	t.Parallel()
	t.Run("fake's own limit", func(t *testing.T) {
		t.Parallel()
		srv := slacktest.NewServer(t, slacktest.WithRateLimit(time.Hour, 1))
		ch := slack.New(channeltest.NewClient(t), nil)
		d := slack.Destination("busy", srv.NewWebhook("busy"))
		o := channeltest.SendPastLimit(t, ch, d)
		if o.RetryAfter != time.Hour || o.Pause != time.Hour {
			t.Errorf("RetryAfter = %s, Pause = %s, want 1h each", o.RetryAfter, o.Pause)
		}
		if rej := srv.Rejected(); len(rej) != 1 || rej[0].Code != slacktest.CodeRateLimited {
			t.Errorf("rejections = %+v, want one rate_limited", rej)
		}
	})
	t.Run("injected Retry-After", func(t *testing.T) {
		t.Parallel()
		srv := slacktest.NewServer(t, slacktest.WithoutRateLimit())
		ch := slack.New(channeltest.NewClient(t), nil)
		d := slack.Destination("busy", srv.NewWebhook("busy"))
		srv.Inject(slacktest.Failure{Status: http.StatusTooManyRequests, Body: "rate_limited", RetryAfter: "7"})
		o := ch.Send(t.Context(), channeltest.Sample(d, 0))
		if o.Kind != channel.Retry || o.RetryAfter != 7*time.Second || o.Pause != 7*time.Second {
			t.Fatalf("outcome = %+v, want retry after 7s with a 7s pause", o)
		}
		if !strings.Contains(o.Reason, "429") {
			t.Errorf("reason %q does not name 429", o.Reason)
		}
		if o := ch.Send(t.Context(), channeltest.Sample(d, 0)); o.Kind != channel.Delivered {
			t.Fatalf("after the 429: %+v, want delivered", o)
		}
	})
}

// TestSlackWebhookLifecycle checks the fake's answers for wrong, removed and archived
// webhooks, and the channel's outcomes for them.
func TestSlackWebhookLifecycle(t *testing.T) {
	t.Parallel()
	srv := slacktest.NewServer(t, slacktest.WithoutRateLimit())
	ch := slack.New(channeltest.NewClient(t), nil)
	good := slack.Destination("ops", srv.NewWebhook("ops"))
	cases := []struct {
		name   string
		dest   func() channel.Destination
		status int
		code   string
	}{
		{"unknown webhook", func() channel.Destination {
			return slack.Destination("x", srv.URL+"/services/TNOPE/BNOPE/secretsecret")
		}, 404, "no_service"},
		{"wrong secret", func() channel.Destination {
			u := good.Config.(*slack.Config).WebhookURL
			return slack.Destination("x", u[:strings.LastIndexByte(u, '/')]+"/wrongsecretvalue")
		}, 403, "invalid_token"},
		{"not a webhook path", func() channel.Destination {
			return slack.Destination("x", srv.URL+"/api/chat.postMessage")
		}, 404, "no_service"},
		{"removed webhook", func() channel.Destination {
			u := srv.NewWebhook("gone")
			srv.RemoveWebhook(u)
			return slack.Destination("gone", u)
		}, 404, "no_service"},
		{"archived channel", func() channel.Destination {
			d := slack.Destination("old", srv.NewWebhook("old"))
			srv.ArchiveChannel("old")
			return d
		}, 410, "channel_is_archived"},
	}
	for _, c := range cases {
		o := ch.Send(t.Context(), channeltest.Sample(c.dest(), 0))
		if o.Kind != channel.Permanent || o.StatusCode != c.status || !strings.Contains(o.Reason, c.code) {
			t.Errorf("%s: outcome = %+v, want permanent %d %s", c.name, o, c.status, c.code)
		}
	}
	if o := ch.Send(t.Context(), channeltest.Sample(good, 0)); o.Kind != channel.Delivered {
		t.Fatalf("good webhook: %+v", o)
	}
	if got := len(srv.Rejected()); got != len(cases) {
		t.Errorf("fake recorded %d rejections, want %d", got, len(cases))
	}
}

// TestFakeRejectsWhatSlackRefuses proves that the fake can fail a test: requests Slack would
// refuse are answered 400 with Slack's code and recorded.
func TestFakeRejectsWhatSlackRefuses(t *testing.T) {
	t.Parallel()
	srv := slacktest.NewServer(t, slacktest.WithoutRateLimit())
	url := srv.NewWebhook("c")
	long := strings.Repeat("x", 151)
	fields := strings.Repeat(`{"type":"mrkdwn","text":"f"},`, 11)
	cases := []struct{ name, ctype, body, code string }{
		{"form encoded", "application/x-www-form-urlencoded", `payload={"text":"hi"}`, "invalid_payload"},
		{"not JSON", "application/json", `{"text":`, "invalid_payload"},
		{"no text", "application/json", `{"blocks":[{"type":"divider"}]}`, "no_text"},
		{"unknown block", "application/json", `{"text":"t","blocks":[{"type":"banner"}]}`, "invalid_blocks"},
		{"long header", "application/json", `{"text":"t","blocks":[{"type":"header","text":{"type":"plain_text","text":"` + long + `"}}]}`, "invalid_blocks"},
		{"mrkdwn header", "application/json", `{"text":"t","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]}`, "invalid_blocks"},
		{"eleven fields", "application/json", `{"text":"t","blocks":[{"type":"section","fields":[` + strings.TrimSuffix(fields, ",") + `]}]}`, "invalid_blocks"},
		{"empty section text", "application/json", `{"text":"t","blocks":[{"type":"section","text":{"type":"mrkdwn","text":""}}]}`, "invalid_blocks"},
		{"unknown property", "application/json", `{"text":"t","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"x"},"color":"red"}]}`, "invalid_blocks"},
		{"51 blocks", "application/json", `{"text":"t","blocks":[` + strings.TrimSuffix(strings.Repeat(`{"type":"divider"},`, 51), ",") + `]}`, "invalid_blocks"},
	}
	for _, c := range cases {
		resp, err := http.Post(url, c.ctype, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || string(b) != c.code {
			t.Errorf("%s: answered %d %q, want 400 %q", c.name, resp.StatusCode, b, c.code)
		}
	}
	if got := len(srv.Rejected()); got != len(cases) {
		t.Errorf("fake recorded %d rejections, want %d", got, len(cases))
	}
	if len(srv.Messages()) != 0 {
		t.Errorf("fake accepted %d messages, want none", len(srv.Messages()))
	}
	http.DefaultClient.CloseIdleConnections()
}

func TestSlackValidate(t *testing.T) {
	t.Parallel()
	const token = "abcdefABCDEF0123456789xy"
	ch := slack.New(channeltest.NewClient(t), nil)
	cases := []struct {
		name  string
		url   string
		valid bool
	}{
		{"slack", "https://hooks.slack.com/services/T000/B000/" + token, true},
		{"fake on loopback", "http://127.0.0.1:4321/services/T1/B1/" + token, true},
		{"proxy path", "https://proxy.internal/slack/" + token, true},
		{"empty", "", false},
		{"relative", "/services/T/B/" + token, false},
		{"ftp", "ftp://hooks.slack.com/services/T/B/" + token, false},
		{"no path", "https://hooks.example.com", false},
		{"root path", "https://hooks.example.com/", false},
		{"slack over http", "http://hooks.slack.com/services/T000/B000/" + token, false},
		{"slack wrong shape", "https://hooks.slack.com/workflows/T000/B000/" + token, false},
		{"slack missing secret", "https://hooks.slack.com/services/T000/B000/", false},
		{"credentials", "https://user:" + token + "@hooks.example.com/x", false},
		{"unparsable", "https://exa mple.com/%zz/" + token, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			field := "webhook_url"
			if c.valid {
				field = ""
			}
			channeltest.CheckValidate(t, ch, slack.Destination("d", c.url), field, token)
		})
	}
	if err := ch.Validate(channel.Destination{Channel: "discord", Config: &slack.Config{WebhookURL: "https://hooks.slack.com/services/T/B/x"}}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Errorf("destination of another channel: %v", err)
	}
}

func TestSlackPace(t *testing.T) {
	t.Parallel()
	const token = "paceTOKEN0123456789abcd"
	a := slack.Destination("a", "https://hooks.slack.com/services/T1/B1/"+token)
	b := slack.Destination("b", "https://hooks.slack.com/services/T1/B2/"+token+"x")
	p := slack.New(nil, nil).Pace(a)
	if p.Every != time.Second || p.Burst != 3 || !strings.HasPrefix(p.Key, "slack:") || len(p.Key) != len("slack:")+16 {
		t.Fatalf("Pace = %+v, want slack:<16 hex>, 1s, burst 3", p)
	}
	if strings.Contains(p.Key, token) {
		t.Fatal("pace key holds the token")
	}
	if p2 := slack.New(nil, nil).Pace(a); p2 != p {
		t.Errorf("pace of one destination changed: %+v, %+v", p, p2)
	}
	if pb := slack.New(nil, nil).Pace(b); pb.Key == p.Key {
		t.Error("two webhooks share a pace key")
	}
	if got := slack.New(nil, nil, slack.WithPace(250*time.Millisecond, 5)).Pace(a); got.Every != 250*time.Millisecond || got.Burst != 5 || got.Key != p.Key {
		t.Errorf("WithPace: %+v", got)
	}
}

// TestSlackPreviewIsWhatSendPosts compares Preview's body with the body the fake received.
func TestSlackPreviewIsWhatSendPosts(t *testing.T) {
	t.Parallel()
	srv := slacktest.NewServer(t, slacktest.WithoutRateLimit())
	d := slack.Destination("preview", srv.NewWebhook("preview"))
	last := func() slacktest.Message { msgs := srv.Messages(); return msgs[len(msgs)-1] }
	channeltest.CheckPreviewIsWhatSendPosts(t, slack.New(channeltest.NewClient(t), nil), d, "application/json",
		func() []byte { return last().Body },
		func(n channel.Notification, pv channel.Preview) {
			if got := last(); pv.Text == "" || pv.Text != got.Payload.Text {
				t.Errorf("%s: preview text %q, posted fallback %q", n.Event.Type, pv.Text, got.Payload.Text)
			}
		})
}
