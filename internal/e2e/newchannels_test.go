package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/channel/pagerduty/pagerdutytest"
	"github.com/heraldhq/herald/internal/channel/sms/smstest"
	"github.com/heraldhq/herald/internal/channel/teams/teamstest"
	"github.com/heraldhq/herald/internal/channel/telegram/telegramtest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// hostile is text that every channel's markup would read as something: HTML and Telegram
// tags, Markdown and mrkdwn, Adaptive Card markdown, mentions, entities, a link, emoji (with a
// ZWJ sequence), right-to-left text with its override characters.
const hostile = "🔥👩‍💻 <b>bold</b> <script>x</script> *star* _under_ `code` ~strike~ # head\n- item\n1. one " +
	"@everyone @here <!channel> <@U123> &amp; &lt; [link](https://evil.example) {{DATE(2026-01-01T00:00:00Z)}} " +
	"\u202eevil\u202c עברית العربية"

// variant makes one event of a sample's type, with its data changed by edit.
type variant struct {
	name string
	edit func(data map[string]any)
}

var variants = []variant{
	{"plain", func(map[string]any) {}},
	{"long", func(d map[string]any) {
		for k, v := range d {
			if _, ok := v.(string); ok {
				d[k] = strings.Repeat("long text ", 1024) // 10 kB
			}
		}
		for i := range 40 {
			d[fmt.Sprintf("extra_%02d", i)] = strings.Repeat("x", 256)
		}
	}},
	{"hostile", func(d map[string]any) {
		for k, v := range d {
			if s, ok := v.(string); ok {
				d[k] = s + " " + hostile
			}
		}
		d["note "+hostile[:12]] = hostile
	}},
}

// variantEvents returns every sample type (the seed types and a custom one) in every variant,
// as raw CloudEvents a plain NATS client publishes.
func variantEvents(t *testing.T) []*sdk.Event {
	t.Helper()
	var out []*sdk.Event
	for _, v := range variants {
		for _, s := range render.Samples() {
			var data map[string]any
			if err := json.Unmarshal(s.Data, &data); err != nil {
				t.Fatal(err)
			}
			v.edit(data)
			raw, err := json.Marshal(data)
			if err != nil {
				t.Fatal(err)
			}
			id, err := sdk.NewID()
			if err != nil {
				t.Fatal(err)
			}
			e := *s
			e.ID, e.Data, e.TenantID = id, raw, "acme"
			e.Time = time.Now().UTC()
			out = append(out, &e)
		}
	}
	return out
}

// publishRaw publishes events as plain NATS messages with Nats-Msg-Id, as any client may.
func publishRaw(t *testing.T, js jetstream.JetStream, events []*sdk.Event) {
	t.Helper()
	for _, e := range events {
		body, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(e.Subject("herald"))
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, e.ID)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = js.PublishMsg(ctx, m)
		cancel()
		if err != nil {
			t.Fatalf("publish %s: %v", e.Type, err)
		}
	}
}

// newChannelFakes are the four new channels' fakes and the variables that point the fleet at
// them.
type newChannelFakes struct {
	sms   *smstest.Server
	pd    *pagerdutytest.Server
	teams *teamstest.Server
	tg    *telegramtest.Server
	env   map[string]string
}

func startNewChannelFakes(t *testing.T, limited bool) *newChannelFakes {
	t.Helper()
	var (
		smsOpts   []smstest.Option
		pdOpts    []pagerdutytest.Option
		teamsOpts []teamstest.Option
		tgOpts    []telegramtest.Option
	)
	if limited {
		// Stricter than Herald's own pace, so that the providers' 429s are what slows it.
		smsOpts = []smstest.Option{smstest.WithRateLimit(700*time.Millisecond, 2), smstest.WithRetryAfter()}
		pdOpts = []pagerdutytest.Option{pagerdutytest.WithRateLimit(700*time.Millisecond, 2), pagerdutytest.WithRetryAfter()}
		teamsOpts = []teamstest.Option{teamstest.WithRateLimit(700*time.Millisecond, 2)}
		tgOpts = []telegramtest.Option{telegramtest.WithRateLimit(700*time.Millisecond, 2)}
	} else {
		smsOpts = []smstest.Option{smstest.WithoutRateLimit()}
		pdOpts = []pagerdutytest.Option{pagerdutytest.WithoutRateLimit()}
		teamsOpts = []teamstest.Option{teamstest.WithoutRateLimit()}
		tgOpts = []telegramtest.Option{telegramtest.WithoutRateLimit()}
	}
	f := &newChannelFakes{
		sms:   smstest.NewServer(t, smsOpts...),
		pd:    pagerdutytest.NewServer(t, pdOpts...),
		teams: teamstest.NewServer(t, teamsOpts...),
		tg:    telegramtest.NewServer(t, tgOpts...),
	}
	acct := f.sms.NewAccount()
	f.env = map[string]string{
		"NOTIFICATIONS_SMS_ENABLED":           "true",
		"NOTIFICATIONS_TWILIO_ACCOUNT_SID":    acct.SID,
		"NOTIFICATIONS_TWILIO_AUTH_TOKEN":     acct.AuthToken,
		"NOTIFICATIONS_TWILIO_FROM":           acct.From,
		"NOTIFICATIONS_SMS_TO":                `["+14155550100"]`,
		"NOTIFICATIONS_TWILIO_API_URL":        f.sms.URL,
		"NOTIFICATIONS_PAGERDUTY_ENABLED":     "true",
		"NOTIFICATIONS_PAGERDUTY_ROUTING_KEY": f.pd.NewRoutingKey(),
		"NOTIFICATIONS_PAGERDUTY_API_URL":     f.pd.URL,
		"NOTIFICATIONS_TEAMS_ENABLED":         "true",
		"NOTIFICATIONS_TEAMS_WEBHOOK_URL":     f.teams.NewWorkflow("ops"),
		"NOTIFICATIONS_TELEGRAM_ENABLED":      "true",
		"NOTIFICATIONS_TELEGRAM_BOT_TOKEN":    f.tg.NewBot(),
		"NOTIFICATIONS_TELEGRAM_CHAT_ID":      f.tg.NewChat(telegramtest.Private),
		"NOTIFICATIONS_TELEGRAM_API_URL":      f.tg.URL,
	}
	return f
}

// refusals counts each fake's refusals other than 429s (rate limits), which lose nothing.
func (f *newChannelFakes) refusals() map[string][]string {
	out := map[string][]string{}
	for _, r := range f.sms.Rejected() {
		if r.Err.Status != http.StatusTooManyRequests {
			out["sms"] = append(out["sms"], fmt.Sprintf("%d %d %s", r.Err.Status, r.Err.Code, r.Err.Message))
		}
	}
	for _, r := range f.pd.Rejected() {
		if r.Err.HTTPStatus != http.StatusTooManyRequests {
			out["pagerduty"] = append(out["pagerduty"], fmt.Sprintf("%d %s %v", r.Err.HTTPStatus, r.Err.Message, r.Err.Errors))
		}
	}
	for _, r := range f.teams.Rejected() {
		if r.Status != http.StatusTooManyRequests {
			out["teams"] = append(out["teams"], fmt.Sprintf("%d %s %s", r.Status, r.Code, r.Reason))
		}
	}
	for _, r := range f.tg.Rejected() {
		if r.Code != http.StatusTooManyRequests {
			out["telegram"] = append(out["telegram"], fmt.Sprintf("%d %s", r.Code, r.Description))
		}
	}
	return out
}

// rateLimited counts the 429s the fakes answered.
func (f *newChannelFakes) rateLimited() int {
	n := 0
	for _, r := range f.sms.Rejected() {
		if r.Err.Status == http.StatusTooManyRequests {
			n++
		}
	}
	for _, r := range f.pd.Rejected() {
		if r.Err.HTTPStatus == http.StatusTooManyRequests {
			n++
		}
	}
	for _, r := range f.teams.Rejected() {
		if r.Status == http.StatusTooManyRequests {
			n++
		}
	}
	for _, r := range f.tg.Rejected() {
		if r.Code == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}

// runNewChannels publishes events to the fleet configured for the four new channels and checks
// that each provider accepted every one, refused none, and that the ledger agrees.
func runNewChannels(t *testing.T, f *newChannelFakes, events []*sdk.Event, timeout time.Duration) {
	t.Helper()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	e := baseEnv(t, n.URL(), dbURL)
	for k, v := range f.env {
		e[k] = v
	}
	e["NOTIFICATIONS_SEND_TIMEOUT"] = "10s"
	fleet := startFleet(t, e, wholeFleet)
	_, js := jsFor(t, n)
	publishRaw(t, js, events)

	f.sms.WaitForMessages(t, len(events), timeout)
	f.pd.WaitForEvents(t, len(events), timeout)
	f.teams.WaitForMessages(t, len(events), timeout)
	f.tg.WaitForMessages(t, len(events), timeout)

	db := ledger(t, dbURL)
	want := 4 * len(events)
	testutil.WaitFor(t, time.Minute, "the ledger to show every delivery delivered", func() bool {
		return statusCounts(t, db)["delivered"] == want
	})
	if got := statusCounts(t, db); len(got) != 1 {
		t.Errorf("ledger statuses %v, want all %d delivered", got, want)
	}
	for ch, rs := range f.refusals() {
		t.Errorf("%s refused %d requests, want none; the first: %s", ch, len(rs), rs[0])
	}
	if dead := deadMessages(t, js); len(dead) != 0 {
		t.Errorf("%d dead letters, want none; the first: %s", len(dead), dead[0].Headers().Get("Herald-Dead-Reason"))
	}
	if lines := logLines(fleet.logs.String(), `"level":"ERROR"`); len(lines) != 0 {
		t.Errorf("error logs: %s", lines[0])
	}
}

// TestEveryVariantReachesSMSPagerDutyTeamsTelegram: every seed type and a custom one, plain,
// long (10 kB strings, 40 more fields) and hostile (emoji, right-to-left text, every channel's
// markup), published by a plain NATS client, reach Twilio, PagerDuty, Teams and Telegram, whose
// fakes enforce the providers' documented limits and shapes, with nothing refused.
func TestEveryVariantReachesSMSPagerDutyTeamsTelegram(t *testing.T) {
	t.Parallel()
	f := startNewChannelFakes(t, false)
	events := variantEvents(t)
	runNewChannels(t, f, events, 2*time.Minute)
	// The hostile variant reached people as text, not markup.
	shown := 0
	for _, m := range f.tg.Messages() {
		if strings.Contains(m.Payload.Text, "<script>") {
			t.Errorf("telegram message carries a live tag: %.200q", m.Payload.Text)
		}
		if strings.Contains(m.Payload.Plain, "<script>x</script>") {
			shown++
		}
	}
	if shown == 0 {
		t.Error("no telegram message shows the hostile text as text")
	}
}

// TestNewChannelsRateLimitedLoseNothing: the same providers rate-limiting harder than Herald
// paces them; their 429s slow delivery down and lose nothing.
func TestNewChannelsRateLimitedLoseNothing(t *testing.T) {
	t.Parallel()
	f := startNewChannelFakes(t, true)
	events := variantEvents(t)[:len(render.Samples())] // the plain variant: the limits, not the sizes
	runNewChannels(t, f, events, 3*time.Minute)
	if f.rateLimited() == 0 {
		t.Error("no provider answered 429: the test proves nothing about rate limits")
	}
}
