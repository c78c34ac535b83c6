package telegram_test

import (
	"encoding/json"
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
	"github.com/heraldhq/herald/internal/channel/telegram"
	"github.com/heraldhq/herald/internal/channel/telegram/telegramtest"
	"github.com/heraldhq/herald/internal/render"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// setup starts a fake Bot API without rate limits, with one bot and one supergroup, and
// returns it with a channel and a destination posting there.
func setup(t *testing.T, opts ...telegramtest.Option) (*telegramtest.Server, *telegram.Channel, channel.Destination) {
	t.Helper()
	srv := telegramtest.NewServer(t, append([]telegramtest.Option{telegramtest.WithoutRateLimit()}, opts...)...)
	return srv, telegram.New(channeltest.NewClient(t), nil), telegram.Destination("ops", srv.URL, srv.NewBot(), srv.NewChat(telegramtest.Supergroup))
}

// TestTelegramConformance runs the suite every channel runs, with telegramtest's checks as
// the provider's contract: the token in the path, a JSON body, HTML that Telegram parses,
// within 4096 characters.
func TestTelegramConformance(t *testing.T) {
	t.Parallel()
	const token = "7301234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, telegram.Provider{}, logger)
			return ch, telegram.Destination("ops-telegram", baseURL, token, "-1001234567890")
		},
		Secrets: []string{token},
		Check: func(r *http.Request, body []byte) error {
			if r.URL.Path != "/bot"+token+"/sendMessage" {
				return errors.New("request path is not /bot<token>/sendMessage")
			}
			return telegramtest.CheckRequest(r, body)
		},
		Accept: func(w http.ResponseWriter, _ *http.Request, status int) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = io.WriteString(w, `{"ok":true,"result":{"message_id":1}}`)
		},
	})
}

// TestSamplesDeliveredToFakeTelegram sends every sample event to the fake and expects each
// to be accepted, parsed as HTML, with bold text and previews off.
func TestSamplesDeliveredToFakeTelegram(t *testing.T) {
	t.Parallel()
	srv, ch, d := setup(t)
	samples := render.Samples()
	for i, ev := range samples {
		if o := ch.Send(t.Context(), channeltest.Sample(d, i)); o.Kind != channel.Delivered || o.StatusCode != http.StatusOK {
			t.Errorf("%s: outcome = %+v, want delivered 200", ev.Type, o)
		}
	}
	for _, r := range srv.Rejected() {
		t.Errorf("fake Telegram rejected a request: %s", r)
	}
	msgs := srv.Messages()
	if len(msgs) != len(samples) {
		t.Fatalf("fake Telegram accepted %d messages, want %d", len(msgs), len(samples))
	}
	for i, m := range msgs {
		p := m.Payload
		if p.ParseMode != "HTML" || !p.PreviewDisabled || m.Chat != d.Config.(*telegram.Config).ChatID {
			t.Errorf("%s: parse mode %q, previews disabled %v, chat %q", samples[i].Type, p.ParseMode, p.PreviewDisabled, m.Chat)
		}
		if len(p.Entities) == 0 || p.Entities[0].Type != "bold" || !strings.Contains(p.Plain, "2026-11-28 09:30 UTC") {
			t.Errorf("%s: entities %+v, text %q", samples[i].Type, p.Entities, p.Plain)
		}
	}
}

// TestTelegramErrors checks the outcome of each documented kind of refusal: the reason
// quotes Telegram's description and never the token.
// https://core.telegram.org/bots/api#making-requests
func TestTelegramErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code        int
		description string
		raw         string
		want        channel.Kind
	}{
		{400, "Bad Request: chat not found", "", channel.Permanent},
		{400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 0", "", channel.Permanent},
		{401, "Unauthorized", "", channel.Permanent},
		{403, "Forbidden: bot was blocked by the user", "", channel.Permanent},
		{403, "Forbidden: bot is not a member of the channel chat", "", channel.Permanent},
		{404, "Not Found", "", channel.Permanent},
		{500, "Internal Server Error", "", channel.Retry},
		{502, "", "<html>bad gateway</html>", channel.Retry},
		{503, "Service Unavailable", "", channel.Retry},
	}
	srv, ch, d := setup(t)
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d %s", c.code, c.description), func(t *testing.T) {
			srv.Inject(telegramtest.Failure{Code: c.code, Description: c.description, Raw: c.raw})
			o := ch.Send(t.Context(), channeltest.Sample(d, 0))
			if o.Kind != c.want || o.StatusCode != c.code {
				t.Fatalf("outcome = %+v, want %s with status %d", o, c.want, c.code)
			}
			if !strings.Contains(o.Reason, fmt.Sprint(c.code)) || !strings.Contains(o.Reason, c.description) {
				t.Errorf("reason %q does not name status %d and quote %q", o.Reason, c.code, c.description)
			}
			if o.Pause != 0 || o.RetryAfter != 0 {
				t.Errorf("Pause = %s, RetryAfter = %s, want 0 outside a 429", o.Pause, o.RetryAfter)
			}
			channeltest.CheckNoSecrets(t, "reason", o.Reason, d.Secrets()...)
		})
	}
}

// TestTelegramRateLimited checks that a 429's parameters.retry_after is the outcome's
// RetryAfter and Pause. https://core.telegram.org/bots/api#responseparameters
func TestTelegramRateLimited(t *testing.T) {
	t.Parallel()
	t.Run("fake's own limit", func(t *testing.T) {
		t.Parallel()
		srv := telegramtest.NewServer(t, telegramtest.WithRateLimit(time.Hour, 1))
		ch := telegram.New(channeltest.NewClient(t), nil)
		d := telegram.Destination("busy", srv.URL, srv.NewBot(), srv.NewChat(telegramtest.Private))
		o := channeltest.SendPastLimit(t, ch, d)
		if o.RetryAfter != time.Hour || o.Pause != time.Hour || !strings.Contains(o.Reason, "Too Many Requests: retry after 3600") {
			t.Errorf("outcome = %+v, want 1h RetryAfter and Pause, quoting the description", o)
		}
	})
	t.Run("injected retry_after", func(t *testing.T) {
		t.Parallel()
		srv, ch, d := setup(t)
		srv.Inject(telegramtest.Failure{Code: 429, Description: "Too Many Requests: retry after 7", RetryAfter: 7})
		o := ch.Send(t.Context(), channeltest.Sample(d, 0))
		if o.Kind != channel.Retry || o.RetryAfter != 7*time.Second || o.Pause != 7*time.Second {
			t.Fatalf("outcome = %+v, want retry after 7s with a 7s pause", o)
		}
		if o := ch.Send(t.Context(), channeltest.Sample(d, 0)); o.Kind != channel.Delivered {
			t.Fatalf("after the 429: %+v, want delivered", o)
		}
	})
}

// TestTelegramChatLifecycle checks the fake's answers for unknown, blocked and migrated chats
// and for unknown and revoked bots, and the channel's outcomes for them.
func TestTelegramChatLifecycle(t *testing.T) {
	t.Parallel()
	srv, ch, good := setup(t)
	cfg := good.Config.(*telegram.Config)
	srv.AddChat("@herald_alerts", telegramtest.Channel)
	cases := []struct {
		name string
		dest func() channel.Destination
		code int
		want string
	}{
		{"unknown chat", func() channel.Destination {
			return telegram.Destination("x", srv.URL, cfg.BotToken, "-100999")
		}, 400, "Bad Request: chat not found"},
		{"unknown bot", func() channel.Destination {
			return telegram.Destination("x", srv.URL, "42:AAunknownunknownunknownunknown00", cfg.ChatID)
		}, 401, "Unauthorized"},
		{"revoked bot", func() channel.Destination {
			token := srv.NewBot()
			srv.RevokeBot(token)
			return telegram.Destination("x", srv.URL, token, cfg.ChatID)
		}, 401, "the bot token is wrong or was revoked"},
		{"blocked by a user", func() channel.Destination {
			c := srv.NewChat(telegramtest.Private)
			srv.BlockBot(c)
			return telegram.Destination("x", srv.URL, cfg.BotToken, c)
		}, 403, "Forbidden: bot was blocked by the user"},
		{"removed from a channel", func() channel.Destination {
			c := srv.NewChat(telegramtest.Channel)
			srv.BlockBot(c)
			return telegram.Destination("x", srv.URL, cfg.BotToken, c)
		}, 403, "Forbidden: bot is not a member of the channel chat"},
		{"wrong API base path", func() channel.Destination {
			return telegram.Destination("x", srv.URL+"/proxy", cfg.BotToken, cfg.ChatID)
		}, 404, "Not Found"},
	}
	for _, c := range cases {
		o := ch.Send(t.Context(), channeltest.Sample(c.dest(), 0))
		if o.Kind != channel.Permanent || o.StatusCode != c.code || !strings.Contains(o.Reason, c.want) {
			t.Errorf("%s: outcome = %+v, want permanent %d %q", c.name, o, c.code, c.want)
		}
		if strings.Contains(o.Reason, cfg.BotToken) {
			t.Errorf("%s: reason %q leaks the token", c.name, o.Reason)
		}
	}
	t.Run("migrated group", func(t *testing.T) {
		old := srv.NewChat(telegramtest.Group)
		newID := srv.MigrateChat(old)
		o := ch.Send(t.Context(), channeltest.Sample(telegram.Destination("x", srv.URL, cfg.BotToken, old), 0))
		if o.Kind != channel.Permanent || o.StatusCode != 400 || !strings.Contains(o.Reason, "chat_id to "+newID) {
			t.Fatalf("outcome = %+v, want permanent naming the new chat id %s", o, newID)
		}
		if o := ch.Send(t.Context(), channeltest.Sample(telegram.Destination("x", srv.URL, cfg.BotToken, newID), 0)); o.Kind != channel.Delivered {
			t.Fatalf("to the new chat id: %+v", o)
		}
	})
	for _, d := range []channel.Destination{good, telegram.Destination("alerts", srv.URL, cfg.BotToken, "@herald_alerts")} {
		if o := ch.Send(t.Context(), channeltest.Sample(d, 0)); o.Kind != channel.Delivered {
			t.Fatalf("good destination %s: %+v", d, o)
		}
	}
}

// TestFakeRejectsWhatTelegramRefuses proves that the fake can fail a test: requests Telegram
// refuses are answered with its error and recorded.
func TestFakeRejectsWhatTelegramRefuses(t *testing.T) {
	t.Parallel()
	srv, _, d := setup(t)
	cfg := d.Config.(*telegram.Config)
	msg := func(text string) string {
		return `{"chat_id":` + cfg.ChatID + `,"text":` + jsonString(text) + `,"parse_mode":"HTML"}`
	}
	cases := []struct {
		name, path, ctype, body string
		code                    int
		want                    string
	}{
		{"no token", "/sendMessage", "application/json", msg("hi"), 404, "Not Found"},
		{"unknown method", "/bot" + cfg.BotToken + "/sendMessages", "application/json", msg("hi"), 404, "Not Found"},
		{"form encoded", "", "application/x-www-form-urlencoded", "chat_id=1&text=hi", 400, "only application/json"},
		{"not JSON", "", "application/json", `{"chat_id":`, 400, "not a JSON object"},
		{"no chat", "", "application/json", `{"text":"hi"}`, 400, "Bad Request: chat_id is empty"},
		{"no text", "", "application/json", `{"chat_id":` + cfg.ChatID + `}`, 400, "Bad Request: message text is empty"},
		{"blank text", "", "application/json", msg(" <b> </b> "), 400, "Bad Request: message text is empty"},
		{"unknown parse mode", "", "application/json", `{"chat_id":1,"text":"x","parse_mode":"BBCode"}`, 400, "unsupported parse_mode"},
		{"unknown tag", "", "application/json", msg("<h1>x</h1>"), 400, `Unsupported start tag "h1"`},
		{"unclosed tag", "", "application/json", msg("<b>x"), 400, `Can't find end tag corresponding to start tag "b"`},
		{"crossed tags", "", "application/json", msg("<b><i>x</b></i>"), 400, `Can't find end tag corresponding to start tag "i"`},
		{"stray end tag", "", "application/json", msg("x</b>"), 400, "Unexpected end tag"},
		{"bare ampersand", "", "application/json", msg("AT&T"), 400, "Unsupported HTML entity"},
		{"named entity", "", "application/json", msg("&nbsp;"), 400, "Unsupported HTML entity"},
		{"bare less-than", "", "application/json", msg("1 < 2"), 400, "can't parse entities"},
		{"link without href", "", "application/json", msg("<a>x</a>"), 400, "needs an href"},
		{"code in bold", "", "application/json", msg("<b><code>x</code></b>"), 400, "cannot be nested"},
		{"link in link", "", "application/json", msg(`<a href="https://a.example"><a href="https://b.example">x</a></a>`), 400, "cannot be nested"},
		{"span without spoiler", "", "application/json", msg(`<span class="red">x</span>`), 400, `Unsupported start tag "span"`},
		{"4097 characters", "", "application/json", msg(strings.Repeat("x", 4097)), 400, "Bad Request: message is too long"},
		{"2049 emoji", "", "application/json", msg(strings.Repeat("🔥", 2049)), 400, "Bad Request: message is too long"},
		{"4097 after entities", "", "application/json", msg(strings.Repeat("&amp;", 4097)), 400, "Bad Request: message is too long"},
	}
	for _, c := range cases {
		path := c.path
		if path == "" {
			path = "/bot" + cfg.BotToken + "/sendMessage"
		}
		resp, err := http.Post(srv.URL+path, c.ctype, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			OK          bool   `json:"ok"`
			ErrorCode   int    `json:"error_code"`
			Description string `json:"description"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Errorf("%s: answer %q is not the Bot API's JSON: %v", c.name, b, err)
		}
		if resp.StatusCode != c.code || r.OK || r.ErrorCode != c.code || !strings.Contains(r.Description, c.want) {
			t.Errorf("%s: answered %d %s, want %d %q", c.name, resp.StatusCode, b, c.code, c.want)
		}
	}
	if got := len(srv.Rejected()); got != len(cases) {
		t.Errorf("fake recorded %d rejections, want %d", got, len(cases))
	}
	// What the HTML style allows passes, at the limit.
	for _, text := range []string{
		strings.Repeat("x", 4096),
		strings.Repeat("🔥", 2048),
		`<b>b <i>i <u>u <s>s <tg-spoiler>p</tg-spoiler></s></u></i></b> <a href="https://e.example/?a=1&amp;b=2">l</a> <code>c</code>`,
		`<pre><code class="language-go">x := 1</code></pre><blockquote expandable>q</blockquote> &lt;&gt;&amp;&quot;&#128293;&#x1F525;`,
		`<span class="tg-spoiler">s</span> <strong>s</strong> <em>e</em> <ins>i</ins> <strike>s</strike> <del>d</del>`,
	} {
		resp, err := http.Post(srv.URL+"/bot"+cfg.BotToken+"/sendMessage", "application/json", strings.NewReader(msg(text)))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(b), `{"ok":true`) {
			t.Errorf("%.60q: answered %d %s, want 200", text, resp.StatusCode, b)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTelegramValidate(t *testing.T) {
	t.Parallel()
	const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	ch := telegram.New(channeltest.NewClient(t), nil)
	cases := []struct {
		name, api, token, chat, field string
	}{
		{"supergroup", "", token, "-1001234567890", ""},
		{"private chat", "", token, "12345678", ""},
		{"channel username", "", token, "@herald_alerts", ""},
		{"fake API", "http://127.0.0.1:4321", token, "-100", ""},
		{"API with base path", "https://proxy.internal/telegram/", token, "-100", ""},
		{"no token", "", "", "-100", "bot_token"},
		{"token without secret", "", "123456789", "-100", "bot_token"},
		{"token with a slash", "", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5/../x", "-100", "bot_token"},
		{"token with a query", "", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5?x=1", "-100", "bot_token"},
		{"no chat", "", token, "", "chat_id"},
		{"chat of letters", "", token, "herald", "chat_id"},
		{"short username", "", token, "@abc", "chat_id"},
		{"zero chat", "", token, "0", "chat_id"},
		{"ftp API", "ftp://api.telegram.org", token, "-100", "api_url"},
		{"API with query", "https://api.telegram.org?x=1", token, "-100", "api_url"},
		{"API without host", "https://", token, "-100", "api_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			channeltest.CheckValidate(t, ch, telegram.Destination("d", c.api, c.token, c.chat), c.field, c.token)
		})
	}
	if err := ch.Validate(channel.Destination{Channel: "slack", Config: &telegram.Config{BotToken: token, ChatID: "1"}}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Errorf("destination of another channel: %v", err)
	}
}

// TestTelegramNetworkErrorHidesToken checks that a failed round trip's reason shows neither
// the token nor its secret part, even when the error repeats the request URL (whose first
// path segment, bot<token>, channel.RedactURL would keep).
func TestTelegramNetworkErrorHidesToken(t *testing.T) {
	t.Parallel()
	const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	d := telegram.Destination("d", "http://127.0.0.1:1", token, "-100")
	for name, client := range map[string]*http.Client{
		"connection refused": channeltest.NewClient(t),
		"error quoting the URL": {Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("proxy refused %s (%s)", r.URL, r.URL.Path)
		})},
	} {
		o := telegram.New(client, nil).Send(t.Context(), channeltest.Sample(d, 0))
		if o.Kind != channel.Retry || strings.Contains(o.Reason, "AAHdqTcvCH1v") || strings.Contains(o.Reason, "123456789:") {
			t.Errorf("%s: outcome = %+v, want a retry whose reason masks the token", name, o)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTelegramPace(t *testing.T) {
	t.Parallel()
	const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	ch := telegram.New(nil, nil)
	private := ch.Pace(telegram.Destination("a", "", token, "12345"))
	group := ch.Pace(telegram.Destination("b", "", token, "-100123"))
	channelPace := ch.Pace(telegram.Destination("c", "", token, "@herald_alerts"))
	if private.Every != time.Second || private.Burst != 3 || !strings.HasPrefix(private.Key, "telegram:") || len(private.Key) != len("telegram:")+16 {
		t.Errorf("private chat pace = %+v, want telegram:<16 hex>, 1s, burst 3", private)
	}
	if group.Every != 3*time.Second || group.Burst != 1 || channelPace.Every != 3*time.Second {
		t.Errorf("group pace = %+v, channel pace = %+v, want one every 3s", group, channelPace)
	}
	if private.Key == group.Key || strings.Contains(private.Key, token) || strings.Contains(private.Key, "AAHdqTcv") {
		t.Errorf("pace keys %q, %q: want distinct per chat, without the token", private.Key, group.Key)
	}
	other := ch.Pace(telegram.Destination("d", "", "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "12345"))
	if other.Key == private.Key {
		t.Error("two bots share a pace key for one chat")
	}
	if same := ch.Pace(telegram.Destination("e", "https://proxy.example", token, "12345")); same.Key != private.Key {
		t.Error("one bot and chat got two pace keys")
	}
	if got := telegram.New(nil, nil, telegram.WithPace(250*time.Millisecond, 5)).Pace(telegram.Destination("b", "", token, "-100123")); got.Every != 250*time.Millisecond || got.Burst != 5 {
		t.Errorf("WithPace: %+v", got)
	}
}

// TestTelegramPreviewIsWhatSendPosts compares Preview's body with the body the fake received.
func TestTelegramPreviewIsWhatSendPosts(t *testing.T) {
	t.Parallel()
	srv, ch, d := setup(t)
	last := func() telegramtest.Message { msgs := srv.Messages(); return msgs[len(msgs)-1] }
	channeltest.CheckPreviewIsWhatSendPosts(t, ch, d, "application/json",
		func() []byte { return last().Body },
		func(n channel.Notification, pv channel.Preview) {
			if got := last(); pv.Text != got.Payload.Text {
				t.Errorf("%s: preview text %q, posted %q", n.Event.Type, pv.Text, got.Payload.Text)
			}
		})
}

// TestProvider checks the channel's description: its variables (a public contract), its
// configuration from the environment and from a tenant's JSON, and that secrets stay hidden.
func TestProvider(t *testing.T) {
	t.Parallel()
	p := telegram.Provider{}
	if p.Name() != "telegram" {
		t.Fatalf("Name = %q", p.Name())
	}
	spec := p.Spec()
	want := "NOTIFICATIONS_TELEGRAM_ENABLED,NOTIFICATIONS_TELEGRAM_BOT_TOKEN,NOTIFICATIONS_TELEGRAM_CHAT_ID,NOTIFICATIONS_TELEGRAM_API_URL"
	if got := strings.Join(spec.Vars(), ","); got != want {
		t.Errorf("Vars = %s, want %s", got, want)
	}
	for name, w := range map[string]struct {
		secret           channel.Secrecy
		required, tenant bool
	}{
		"bot_token": {channel.Secret, true, true},
		"chat_id":   {channel.Public, true, true},
		"api_url":   {channel.Public, false, false},
	} {
		f, ok := spec.Field(name)
		if !ok || f.Secret != w.secret || f.Required != w.required || f.Tenant != w.tenant {
			t.Errorf("%s field = %+v", name, f)
		}
	}
	render.MustLoad(*p.Render()) // every template test-renders with every sample
	if err := p.PreviewConfig().Validate(); err != nil {
		t.Errorf("PreviewConfig: %v", err)
	}

	const token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	env := map[string]string{
		"NOTIFICATIONS_TELEGRAM_ENABLED":   "true",
		"NOTIFICATIONS_TELEGRAM_BOT_TOKEN": token,
		"NOTIFICATIONS_TELEGRAM_CHAT_ID":   "-1001234567890",
	}
	cfg, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.(*telegram.Config); c.BotToken != token || c.ChatID != "-1001234567890" || c.APIURL != telegram.DefaultAPIURL {
		t.Errorf("ConfigFromEnv = %+v", c)
	}
	masked, _ := json.Marshal(channel.Masked(spec, cfg))
	if strings.Contains(string(masked), "AAHdqTcv") || !strings.Contains(string(masked), "-1001234567890") {
		t.Errorf("Masked = %s", masked)
	}
	if s := channel.Secrets(spec, cfg); len(s) != 1 || s[0] != token {
		t.Errorf("Secrets = %q", s)
	}
	for name, env := range map[string]map[string]string{
		"missing token": {"NOTIFICATIONS_TELEGRAM_ENABLED": "true", "NOTIFICATIONS_TELEGRAM_CHAT_ID": "1"},
		"bad token":     {"NOTIFICATIONS_TELEGRAM_ENABLED": "true", "NOTIFICATIONS_TELEGRAM_CHAT_ID": "1", "NOTIFICATIONS_TELEGRAM_BOT_TOKEN": "AAHdqTcvCH1vGWJxfSeofSAs0K5"},
	} {
		_, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] })
		var ve *channel.VarError
		if !errors.As(err, &ve) || ve.Var != "NOTIFICATIONS_TELEGRAM_BOT_TOKEN" || strings.Contains(err.Error(), "AAHdqTcv") {
			t.Errorf("%s: ConfigFromEnv error = %v, want one naming NOTIFICATIONS_TELEGRAM_BOT_TOKEN without the token", name, err)
		}
	}
	env["NOTIFICATIONS_TELEGRAM_CHAT_ID"] = "alerts"
	if _, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "NOTIFICATIONS_TELEGRAM_CHAT_ID") {
		t.Errorf("bad chat id: %v", err)
	}
	tenant, err := channel.DecodeConfig(spec, json.RawMessage(`{"bot_token":"`+token+`","chat_id":"@herald_alerts"}`))
	if err != nil || tenant.(*telegram.Config).APIURL != "" {
		t.Fatalf("DecodeConfig = %+v, %v", tenant, err)
	}
	found := false
	for _, s := range tenant.Secrets() {
		found = found || s == "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
	}
	if !found {
		t.Errorf("Config.Secrets = %q, want the token's secret part among them", tenant.Secrets())
	}
}
