package teams_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/teams"
	"github.com/heraldhq/herald/internal/channel/teams/teamstest"
	"github.com/heraldhq/herald/internal/render"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// workflowURL is a workflow URL on base, shaped as Power Automate's, signed with sig.
func workflowURL(base, sig string) string {
	return base + "/workflows/0a1b2c3d4e5f/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig
}

// TestTeamsConformance runs the suite every channel runs, with teamstest's validator as the
// provider's contract: every request must be a card Teams posts, with no markdown warnings.
func TestTeamsConformance(t *testing.T) {
	t.Parallel()
	const sig = "Xk3vQpL0sigNATURE0123456789abcdefGHIJKLmnop"
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, teams.Provider{}, logger)
			return ch, teams.Destination("ops-teams", workflowURL(baseURL, sig))
		},
		Secrets: []string{sig},
		Check: func(r *http.Request, body []byte) error {
			if err := teamstest.CheckRequest(r, body); err != nil {
				return err
			}
			if r.URL.Query().Get("sig") != sig {
				return errors.New("the workflow's sig is missing from the query")
			}
			p, _ := teamstest.ValidatePayload(body)
			if len(p.Warnings) > 0 {
				return fmt.Errorf("markdown warnings: %s", strings.Join(p.Warnings, "; "))
			}
			return nil
		},
	})
}

// TestSamplesDeliveredToFakeTeams sends every sample event to the fake and expects each to be
// accepted with 202, without a rejection or a markdown warning.
func TestSamplesDeliveredToFakeTeams(t *testing.T) {
	t.Parallel()
	srv := teamstest.NewServer(t, teamstest.WithoutRateLimit())
	ch := teams.New(channeltest.NewClient(t), nil)
	d := teams.Destination("alerts", srv.NewWorkflow("alerts"))
	samples := render.Samples()
	for i, ev := range samples {
		if o := ch.Send(t.Context(), channeltest.Sample(d, i)); o.Kind != channel.Delivered || o.StatusCode != http.StatusAccepted {
			t.Errorf("%s: outcome = %+v, want delivered 202", ev.Type, o)
		}
	}
	for _, r := range srv.Rejected() {
		t.Errorf("fake Teams rejected a request: %d %s: %s", r.Status, r.Code, r.Reason)
	}
	msgs := srv.Messages()
	if len(msgs) != len(samples) {
		t.Fatalf("fake Teams accepted %d messages, want %d", len(msgs), len(samples))
	}
	for i, m := range msgs {
		if len(m.Payload.Warnings) > 0 {
			t.Errorf("%s: markdown warnings: %v", samples[i].Type, m.Payload.Warnings)
		}
		if m.Workflow != "alerts" || m.Payload.Title() == "" || len(m.Payload.Facts()) == 0 {
			t.Errorf("%s: message to %q with title %q and %d facts", samples[i].Type, m.Workflow, m.Payload.Title(), len(m.Payload.Facts()))
		}
		if !strings.Contains(m.Payload.AllText(), "{{DATE(2026-11-28T09:30:00Z, SHORT)}}") {
			t.Errorf("%s: no event time in the card", samples[i].Type)
		}
	}
}

// TestTeamsErrors checks the outcome of each kind of refusal: the reason names the status and
// the Logic Apps error code, and never the workflow's signature.
func TestTeamsErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status        int
		code, message string
		body          string
		want          channel.Kind
	}{
		{400, "TriggerInputSchemaMismatch", "The input body for trigger 'manual' of type 'Request' did not match its schema definition.", "", channel.Permanent},
		{401, teamstest.CodeInvalidSignature, "The provided authorization signature is not valid.", "", channel.Permanent},
		{403, "AuthorizationFailed", "The client does not have authorization to perform the action.", "", channel.Permanent},
		{404, teamstest.CodeWorkflowNotFound, "The workflow could not be found.", "", channel.Permanent},
		{413, teamstest.CodeTooLarge, "too large", "", channel.Permanent},
		{500, "InternalServerError", "Encountered an internal server error.", "", channel.Retry},
		{502, "", "", "<html>bad gateway</html>", channel.Retry},
		{503, "ServiceUnavailable", "The service is unavailable.", "", channel.Retry},
		{504, "GatewayTimeout", "The gateway did not receive a response in time.", "", channel.Retry},
	}
	srv := teamstest.NewServer(t, teamstest.WithoutRateLimit())
	ch := teams.New(channeltest.NewClient(t), nil)
	d := teams.Destination("codes", srv.NewWorkflow("codes"))
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d %s", c.status, c.code), func(t *testing.T) {
			srv.Inject(teamstest.Failure{Status: c.status, Code: c.code, Message: c.message, Body: c.body})
			o := ch.Send(t.Context(), channeltest.Sample(d, 0))
			if o.Kind != c.want || o.StatusCode != c.status {
				t.Fatalf("outcome = %+v, want %s with status %d", o, c.want, c.status)
			}
			if !strings.Contains(o.Reason, fmt.Sprint(c.status)) || !strings.Contains(o.Reason, c.code) {
				t.Errorf("reason %q does not name status %d and code %q", o.Reason, c.status, c.code)
			}
			if c.message != "" && !strings.Contains(o.Reason, c.message) {
				t.Errorf("reason %q does not quote the message %q", o.Reason, c.message)
			}
			if o.Pause != 0 {
				t.Errorf("Pause = %s, want 0 outside a 429", o.Pause)
			}
			channeltest.CheckNoSecrets(t, "reason", o.Reason, d.Secrets()...)
		})
	}
}

// TestTeamsReasonMasksEchoedSignature checks that a refusal quoting the request's URL (as a
// gateway's error might) shows no signature, even cut short.
func TestTeamsReasonMasksEchoedSignature(t *testing.T) {
	t.Parallel()
	srv := teamstest.NewServer(t, teamstest.WithoutRateLimit())
	ch := teams.New(channeltest.NewClient(t), nil)
	u := srv.NewWorkflow("echo")
	d := teams.Destination("echo", u)
	sig := mustQuery(t, u).Get("sig")
	srv.Inject(teamstest.Failure{Status: 400, Code: "BadRequest", Message: strings.Repeat("x", 180) + " sig=" + sig + " for " + u})
	o := ch.Send(t.Context(), channeltest.Sample(d, 0))
	if o.Kind != channel.Permanent || strings.Contains(o.Reason, sig[:10]) {
		t.Fatalf("outcome = %+v, want permanent without the signature", o)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

// TestTeamsRateLimited checks that a 429 is retried after its Retry-After and pauses the
// workflow for as long.
func TestTeamsRateLimited(t *testing.T) {
	t.Parallel()
	t.Run("fake's own limit", func(t *testing.T) {
		t.Parallel()
		srv := teamstest.NewServer(t, teamstest.WithRateLimit(time.Hour, 1))
		ch := teams.New(channeltest.NewClient(t), nil)
		d := teams.Destination("busy", srv.NewWorkflow("busy"))
		o := channeltest.SendPastLimit(t, ch, d)
		if o.RetryAfter != time.Hour || o.Pause != time.Hour {
			t.Errorf("RetryAfter = %s, Pause = %s, want 1h each", o.RetryAfter, o.Pause)
		}
		if !strings.Contains(o.Reason, teamstest.CodeThrottled) {
			t.Errorf("reason %q does not name %s", o.Reason, teamstest.CodeThrottled)
		}
	})
	t.Run("injected Retry-After", func(t *testing.T) {
		t.Parallel()
		srv := teamstest.NewServer(t, teamstest.WithoutRateLimit())
		ch := teams.New(channeltest.NewClient(t), nil)
		d := teams.Destination("busy", srv.NewWorkflow("busy"))
		srv.Inject(teamstest.Failure{Status: http.StatusTooManyRequests, Code: teamstest.CodeThrottled, Message: "slow down", RetryAfter: "7"})
		o := ch.Send(t.Context(), channeltest.Sample(d, 0))
		if o.Kind != channel.Retry || o.RetryAfter != 7*time.Second || o.Pause != 7*time.Second {
			t.Fatalf("outcome = %+v, want retry after 7s with a 7s pause", o)
		}
		if o := ch.Send(t.Context(), channeltest.Sample(d, 0)); o.Kind != channel.Delivered {
			t.Fatalf("after the 429: %+v, want delivered", o)
		}
	})
}

// TestTeamsWorkflowLifecycle checks the fake's answers for unknown, removed and wrongly
// signed workflows, and the channel's outcomes for them.
func TestTeamsWorkflowLifecycle(t *testing.T) {
	t.Parallel()
	srv := teamstest.NewServer(t, teamstest.WithoutRateLimit())
	ch := teams.New(channeltest.NewClient(t), nil)
	good := srv.NewWorkflow("ops")
	withQuery := func(u string, edit func(url.Values)) string {
		p, _ := url.Parse(u)
		q := p.Query()
		edit(q)
		p.RawQuery = q.Encode()
		return p.String()
	}
	cases := []struct {
		name   string
		url    func() string
		status int
		code   string
	}{
		{"unknown workflow", func() string { return workflowURL(srv.URL, "whatever-signature") }, 404, teamstest.CodeWorkflowNotFound},
		{"removed workflow", func() string {
			u := srv.NewWorkflow("gone")
			srv.RemoveWorkflow(u)
			return u
		}, 404, teamstest.CodeWorkflowNotFound},
		{"wrong signature", func() string { return withQuery(good, func(q url.Values) { q.Set("sig", "wrong-signature-000") }) }, 401, teamstest.CodeInvalidSignature},
		{"no signature", func() string { return withQuery(good, func(q url.Values) { q.Del("sig") }) }, 401, teamstest.CodeAuthorizationRequired},
		{"no api-version", func() string { return withQuery(good, func(q url.Values) { q.Del("api-version") }) }, 400, teamstest.CodeMissingAPIVersion},
	}
	for _, c := range cases {
		o := ch.Send(t.Context(), channeltest.Sample(teams.Destination("x", c.url()), 0))
		if o.Kind != channel.Permanent || o.StatusCode != c.status || !strings.Contains(o.Reason, c.code) {
			t.Errorf("%s: outcome = %+v, want permanent %d %s", c.name, o, c.status, c.code)
		}
	}
	if o := ch.Send(t.Context(), channeltest.Sample(teams.Destination("ops", good), 0)); o.Kind != channel.Delivered {
		t.Fatalf("good workflow: %+v", o)
	}
	if got := len(srv.Rejected()); got != len(cases) {
		t.Errorf("fake recorded %d rejections, want %d", got, len(cases))
	}
}

// TestFakeRejectsWhatTeamsRefuses proves that the fake can fail a test: requests Teams would
// refuse, or would accept and then fail to post, are answered with an error and recorded.
func TestFakeRejectsWhatTeamsRefuses(t *testing.T) {
	t.Parallel()
	srv := teamstest.NewServer(t, teamstest.WithoutRateLimit())
	u := srv.NewWorkflow("c")
	card := func(content string) string {
		return `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":` + content + `}]}`
	}
	body := func(elems string) string {
		return card(`{"type":"AdaptiveCard","version":"1.4","body":[` + elems + `]}`)
	}
	big := strings.Repeat("x", teamstest.MaxMessageBytes)
	cases := []struct {
		name, ctype, body string
		status            int
		code              string
	}{
		{"form encoded", "application/x-www-form-urlencoded", `payload=x`, 400, teamstest.CodeInvalidCard},
		{"not JSON", "application/json", `{"type":`, 400, teamstest.CodeInvalidCard},
		{"MessageCard", "application/json", `{"@type":"MessageCard","@context":"http://schema.org/extensions","summary":"s","sections":[{"activityTitle":"t"}]}`, 400, teamstest.CodeMessageCard},
		{"connector card attachment", "application/json", `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.teams.card.o365connector","content":{}}]}`, 400, teamstest.CodeMessageCard},
		{"wrong envelope type", "application/json", strings.Replace(body(`{"type":"TextBlock","text":"t"}`), `"message"`, `"event"`, 1), 400, teamstest.CodeInvalidCard},
		{"no attachments", "application/json", `{"type":"message","attachments":[]}`, 400, teamstest.CodeInvalidCard},
		{"hero card", "application/json", `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.hero","content":{}}]}`, 400, teamstest.CodeInvalidCard},
		{"no version", "application/json", card(`{"type":"AdaptiveCard","body":[{"type":"TextBlock","text":"t"}]}`), 400, teamstest.CodeInvalidCard},
		{"version 2.0", "application/json", card(`{"type":"AdaptiveCard","version":"2.0","body":[{"type":"TextBlock","text":"t"}]}`), 400, teamstest.CodeInvalidCard},
		{"empty body", "application/json", body(``), 400, teamstest.CodeInvalidCard},
		{"unknown element", "application/json", body(`{"type":"Banner","text":"t"}`), 400, teamstest.CodeInvalidCard},
		{"blank TextBlock", "application/json", body(`{"type":"TextBlock","text":" "}`), 400, teamstest.CodeInvalidCard},
		{"bad colour", "application/json", body(`{"type":"TextBlock","text":"t","color":"red"}`), 400, teamstest.CodeInvalidCard},
		{"fact without value", "application/json", body(`{"type":"FactSet","facts":[{"title":"t"}]}`), 400, teamstest.CodeInvalidCard},
		{"over 28 KB", "application/json", body(`{"type":"TextBlock","text":"` + big + `"}`), 413, teamstest.CodeTooLarge},
	}
	for _, c := range cases {
		resp, err := http.Post(u, c.ctype, strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil {
			t.Errorf("%s: answer %q is not the error JSON: %v", c.name, b, err)
		}
		if resp.StatusCode != c.status || e.Error.Code != c.code {
			t.Errorf("%s: answered %d %s, want %d %s", c.name, resp.StatusCode, b, c.status, c.code)
		}
	}
	if got := len(srv.Rejected()); got != len(cases) {
		t.Errorf("fake recorded %d rejections, want %d", got, len(cases))
	}
	if len(srv.Messages()) != 0 {
		t.Errorf("fake accepted %d messages, want none", len(srv.Messages()))
	}
	// A valid card at the limit passes.
	resp, err := http.Post(u, "application/json", strings.NewReader(body(`{"type":"TextBlock","text":"**ok**"}`)))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Errorf("valid card answered %d, want 202", resp.StatusCode)
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestFakeWarnsAboutBrokenMarkdown checks the warnings the property tests rely on.
func TestFakeWarnsAboutBrokenMarkdown(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]bool{
		`**bold** and \*not\*`: false,
		`{{DATE(2026-11-28T09:30:00Z, SHORT)}} {{TIME(2026-11-28T09:30:00Z)}}`: false,
		`[link](https://example.com)`:                                          false,
		`**open`:                                                               true,
		`ends in \`:                                                            true,
		`{{DATE(tomorrow)}}`:                                                   true,
		`[link](https://example.com`:                                           true,
	} {
		body := `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":` + jsonString(text) + `}]}}]}`
		p, err := teamstest.ValidatePayload([]byte(body))
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if got := len(p.Warnings) > 0; got != want {
			t.Errorf("%q: warnings %v, want some: %v", text, p.Warnings, want)
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTeamsValidate(t *testing.T) {
	t.Parallel()
	const sig = "abcdefABCDEF0123456789xyzSIGNATURE"
	ch := teams.New(channeltest.NewClient(t), nil)
	cases := []struct {
		name  string
		url   string
		valid bool
	}{
		{"logic apps", "https://prod-12.westus.logic.azure.com:443/workflows/abc123/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig, true},
		{"power platform", "https://default1234.56.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc123/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig, true},
		{"fake on loopback", workflowURL("http://127.0.0.1:4321", sig), true},
		{"proxy path", "https://proxy.internal/teams/" + sig, true},
		{"empty", "", false},
		{"relative", "/workflows/x/triggers/manual/paths/invoke?sig=" + sig, false},
		{"ftp", "ftp://prod-1.westus.logic.azure.com/workflows/x?sig=" + sig, false},
		{"no path", "https://teams.example.com?sig=" + sig, false},
		{"logic apps over http", "http://prod-12.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=" + sig, false},
		{"logic apps without sig", "https://prod-12.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&x=" + sig, false},
		{"logic apps without api-version", "https://prod-12.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?sig=" + sig, false},
		{"logic apps not a trigger", "https://prod-12.westus.logic.azure.com/subscriptions/abc?api-version=1&sig=" + sig, false},
		{"retired connector", "https://acme.webhook.office.com/webhookb2/1234@5678/IncomingWebhook/" + sig + "/9abc", false},
		{"retired outlook connector", "https://outlook.office.com/webhook/1234@5678/IncomingWebhook/" + sig + "/9abc", false},
		{"credentials", "https://user:" + sig + "@teams.example.com/x", false},
		{"unparsable", "https://exa mple.com/%zz?sig=" + sig, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			field := "webhook_url"
			if c.valid {
				field = ""
			}
			channeltest.CheckValidate(t, ch, teams.Destination("d", c.url), field, sig)
		})
	}
	if err := ch.Validate(channel.Destination{Channel: "slack", Config: &teams.Config{WebhookURL: workflowURL("https://x.example", sig)}}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Errorf("destination of another channel: %v", err)
	}
	if err := ch.Validate(channel.Destination{Channel: teams.Name}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Errorf("destination without a configuration: %v", err)
	}
}

func TestTeamsPace(t *testing.T) {
	t.Parallel()
	const sig = "paceSIGNATURE0123456789abcd"
	a := teams.Destination("a", workflowURL("https://prod-1.westus.logic.azure.com", sig))
	b := teams.Destination("b", workflowURL("https://prod-1.westus.logic.azure.com", sig+"x"))
	p := teams.New(nil, nil).Pace(a)
	if p.Every != time.Second || p.Burst != 4 || !strings.HasPrefix(p.Key, "teams:") || len(p.Key) != len("teams:")+16 {
		t.Fatalf("Pace = %+v, want teams:<16 hex>, 1s, burst 4", p)
	}
	if strings.Contains(p.Key, sig) {
		t.Fatal("pace key holds the signature")
	}
	if p2 := teams.New(nil, nil).Pace(a); p2 != p {
		t.Errorf("pace of one destination changed: %+v, %+v", p, p2)
	}
	if pb := teams.New(nil, nil).Pace(b); pb.Key == p.Key {
		t.Error("two workflows share a pace key")
	}
	if got := teams.New(nil, nil, teams.WithPace(250*time.Millisecond, 5)).Pace(a); got.Every != 250*time.Millisecond || got.Burst != 5 || got.Key != p.Key {
		t.Errorf("WithPace: %+v", got)
	}
}

// TestTeamsPreviewIsWhatSendPosts compares Preview's body with the body the fake received.
func TestTeamsPreviewIsWhatSendPosts(t *testing.T) {
	t.Parallel()
	srv := teamstest.NewServer(t, teamstest.WithoutRateLimit())
	d := teams.Destination("preview", srv.NewWorkflow("preview"))
	channeltest.CheckPreviewIsWhatSendPosts(t, teams.New(channeltest.NewClient(t), nil), d, "application/json",
		func() []byte { msgs := srv.Messages(); return msgs[len(msgs)-1].Body },
		func(n channel.Notification, pv channel.Preview) {
			if pv.Text == "" || strings.Contains(pv.Text, `\`) {
				t.Errorf("%s: preview text %q, want the title without escapes", n.Event.Type, pv.Text)
			}
		})
}

// TestProvider checks the channel's description: its variables (a public contract), its
// configuration from the environment and from a tenant's JSON, and that secrets stay hidden.
func TestProvider(t *testing.T) {
	t.Parallel()
	p := teams.Provider{}
	if p.Name() != "teams" {
		t.Fatalf("Name = %q", p.Name())
	}
	spec := p.Spec()
	if got, want := strings.Join(spec.Vars(), ","), "NOTIFICATIONS_TEAMS_ENABLED,NOTIFICATIONS_TEAMS_WEBHOOK_URL"; got != want {
		t.Errorf("Vars = %s, want %s", got, want)
	}
	f, ok := spec.Field("webhook_url")
	if !ok || f.Secret != channel.SecretURL || !f.Required || !f.Tenant {
		t.Errorf("webhook_url field = %+v", f)
	}
	render.MustLoad(*p.Render()) // every template test-renders with every sample
	if err := p.PreviewConfig().Validate(); err != nil {
		t.Errorf("PreviewConfig: %v", err)
	}

	const sig = "envSIGNATURE0123456789abcdefgh"
	u := "https://prod-1.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + sig
	env := map[string]string{"NOTIFICATIONS_TEAMS_ENABLED": "true", "NOTIFICATIONS_TEAMS_WEBHOOK_URL": u}
	cfg, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] })
	if err != nil || cfg.(*teams.Config).WebhookURL != u {
		t.Fatalf("ConfigFromEnv = %+v, %v", cfg, err)
	}
	masked, _ := json.Marshal(channel.Masked(spec, cfg))
	if strings.Contains(string(masked), sig) || !strings.Contains(string(masked), "logic.azure.com") {
		t.Errorf("Masked = %s", masked)
	}
	secrets := channel.Secrets(spec, cfg)
	if len(secrets) == 0 {
		t.Error("Secrets lists nothing")
	}
	found := false
	for _, s := range cfg.Secrets() {
		found = found || s == sig
	}
	if !found {
		t.Errorf("Config.Secrets = %q, want the signature among them", cfg.Secrets())
	}

	for name, env := range map[string]map[string]string{
		"missing url": {"NOTIFICATIONS_TEAMS_ENABLED": "true"},
		"retired":     {"NOTIFICATIONS_TEAMS_ENABLED": "true", "NOTIFICATIONS_TEAMS_WEBHOOK_URL": "https://acme.webhook.office.com/webhookb2/x/IncomingWebhook/" + sig + "/y"},
	} {
		_, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] })
		var ve *channel.VarError
		if !errors.As(err, &ve) || ve.Var != "NOTIFICATIONS_TEAMS_WEBHOOK_URL" || strings.Contains(err.Error(), sig) {
			t.Errorf("%s: ConfigFromEnv error = %v, want one naming NOTIFICATIONS_TEAMS_WEBHOOK_URL without the signature", name, err)
		}
	}
	if cfg, err := channel.ConfigFromEnv(spec, func(string) string { return "" }); cfg != nil || err != nil {
		t.Errorf("disabled channel: %v, %v", cfg, err)
	}
	if _, err := channel.DecodeConfig(spec, json.RawMessage(`{"webhook_url":"`+u+`","color":"red"}`)); err == nil {
		t.Error("DecodeConfig accepted an unknown field")
	}
	if cfg, err := channel.DecodeConfig(spec, json.RawMessage(`{"webhook_url":"`+u+`"}`)); err != nil || cfg.(*teams.Config).WebhookURL != u {
		t.Errorf("DecodeConfig = %v, %v", cfg, err)
	}
}
