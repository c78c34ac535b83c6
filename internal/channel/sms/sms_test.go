package sms_test

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/sms"
	"github.com/heraldhq/herald/internal/channel/sms/smstest"
	"github.com/heraldhq/herald/internal/render"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// destination is a destination of acct on srv texting to.
func destination(srv *smstest.Server, acct smstest.Account, to ...string) channel.Destination {
	return sms.Destination("phones", srv.URL, acct.SID, acct.AuthToken, acct.From, to...)
}

// TestSMSConformance runs the suite every channel runs, with smstest's contract check: every
// request must be one Twilio accepts.
func TestSMSConformance(t *testing.T) {
	t.Parallel()
	const (
		sid   = "AC0123456789abcdef0123456789abcdef"
		token = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	)
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, logger *slog.Logger) (channel.Channel, channel.Destination) {
			ch := channeltest.Build(t, sms.Provider{}, logger)
			return ch, sms.Destination("oncall", baseURL, sid, token, "+15005550006", "+14155550100")
		},
		Secrets: []string{token},
		Check: func(r *http.Request, body []byte) error {
			_, err := smstest.CheckRequest(r, body)
			return err
		},
		Accept: smstest.WriteCreated,
	})
}

// TestSamplesDeliveredToFakeTwilio texts every sample event to the fake and expects each to be
// accepted, in GSM-7 and in at most two segments.
func TestSamplesDeliveredToFakeTwilio(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	acct := srv.NewAccount()
	ch := sms.New(channeltest.NewClient(t), nil)
	d := destination(srv, acct, "+14155550100")
	samples := render.Samples()
	for i, ev := range samples {
		if o := ch.Send(t.Context(), channeltest.Sample(d, i)); o.Kind != channel.Delivered || o.StatusCode != http.StatusCreated {
			t.Errorf("%s: outcome = %+v, want delivered 201", ev.Type, o)
		}
	}
	for _, r := range srv.Rejected() {
		t.Errorf("fake Twilio rejected a request: %v", &r.Err)
	}
	msgs := srv.Messages()
	if len(msgs) != len(samples) {
		t.Fatalf("fake Twilio accepted %d messages, want %d", len(msgs), len(samples))
	}
	for i, m := range msgs {
		if m.To != "+14155550100" || m.From != acct.From || m.AccountSID != acct.SID {
			t.Errorf("%s: message %+v", samples[i].Type, m)
		}
		if m.Encoding != smstest.GSM7 || m.Segments > 2 {
			t.Errorf("%s: %d %s segments for %q; the templates should keep to GSM-7 and be short", samples[i].Type, m.Segments, m.Encoding, m.Body)
		}
	}
}

// TestSMSEveryRecipient checks that a destination with several numbers texts each once.
func TestSMSEveryRecipient(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	acct := srv.NewAccount()
	ch := sms.New(channeltest.NewClient(t), nil)
	to := []string{"+14155550100", "+14155550101", "+447700900123"}
	if o := ch.Send(t.Context(), channeltest.Sample(destination(srv, acct, to...), 2)); o.Kind != channel.Delivered {
		t.Fatalf("outcome = %+v, want delivered", o)
	}
	msgs := srv.Messages()
	if len(msgs) != len(to) {
		t.Fatalf("%d messages, want %d", len(msgs), len(to))
	}
	for i, m := range msgs {
		if m.To != to[i] || m.Body != msgs[0].Body {
			t.Errorf("message %d to %s with body %q", i, m.To, m.Body)
		}
	}
}

// TestSMSRetryTextsOnlyThoseLeft checks the partial-failure rule: a retryable failure stops
// the send and yields Retry; the retry skips whoever already got the message, so nobody is
// texted twice; a further redelivery of the delivered notification sends nothing.
func TestSMSRetryTextsOnlyThoseLeft(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	acct := srv.NewAccount()
	ch := sms.New(channeltest.NewClient(t), nil)
	to := []string{"+14155550100", "+14155550101", "+14155550102"}
	n := channeltest.Sample(destination(srv, acct, to...), 4)

	// First attempt: the request for the first recipient meets a 503, and the send stops.
	srv.Inject(smstest.Failure{To: to[0], Status: http.StatusServiceUnavailable, Code: smstest.CodeUnavailable, Message: "Service Unavailable"})
	o := ch.Send(t.Context(), n)
	if o.Kind != channel.Retry || o.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("first attempt = %+v, want retry 503", o)
	}
	if !strings.Contains(o.Reason, to[0]+": HTTP 503") || !strings.Contains(o.Reason, "sent to 0 of 3") {
		t.Errorf("reason %q does not say who failed and how many got it", o.Reason)
	}
	if got := len(srv.Messages()); got != 0 {
		t.Fatalf("%d messages after a failed first request, want 0 (the send stops)", got)
	}

	// Second attempt: the first two get it, the third meets a 429 with Retry-After.
	n.Attempt = 2
	srv.Inject(smstest.Failure{To: to[2], Status: http.StatusTooManyRequests, Code: smstest.CodeTooManyRequests, Message: "Too Many Requests", RetryAfter: "3"})
	o = ch.Send(t.Context(), n)
	if o.Kind != channel.Retry || o.RetryAfter != 3*time.Second || o.Pause != 3*time.Second {
		t.Fatalf("second attempt = %+v, want retry after 3s with a 3s pause", o)
	}
	if !strings.Contains(o.Reason, "sent to 2 of 3") || !strings.Contains(o.Reason, to[2]+": HTTP 429: Twilio error 20429") {
		t.Errorf("reason %q", o.Reason)
	}

	// Third attempt: only the third recipient is texted.
	n.Attempt = 3
	before := srv.Requests()
	if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
		t.Fatalf("third attempt = %+v, want delivered", o)
	}
	if got := srv.Requests() - before; got != 1 {
		t.Errorf("third attempt made %d requests, want 1", got)
	}
	count := map[string]int{}
	for _, m := range srv.Messages() {
		count[m.To]++
	}
	for _, num := range to {
		if count[num] != 1 {
			t.Errorf("%s got %d messages, want exactly 1", num, count[num])
		}
	}

	// A redelivery of the delivered notification texts nobody again.
	before = srv.Requests()
	if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
		t.Fatalf("redelivery = %+v, want delivered", o)
	}
	if srv.Requests() != before {
		t.Errorf("a redelivery of a delivered notification made %d requests", srv.Requests()-before)
	}
}

// TestSMSWithoutDeliveryID checks that a notification without a delivery id is texted every
// time: there is nothing to remember it by.
func TestSMSWithoutDeliveryID(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	acct := srv.NewAccount()
	ch := sms.New(channeltest.NewClient(t), nil)
	n := channeltest.Sample(destination(srv, acct, "+14155550100"), 0)
	n.DeliveryID = ""
	for range 2 {
		if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
			t.Fatalf("outcome = %+v", o)
		}
	}
	if got := len(srv.Messages()); got != 2 {
		t.Errorf("%d messages, want 2", got)
	}
}

// TestSMSRefusedRecipient checks that a number Twilio refuses for good does not keep the
// message from the others, and that the outcome is permanent, naming the number and the code.
func TestSMSRefusedRecipient(t *testing.T) {
	t.Parallel()
	for _, code := range []int{smstest.CodeInvalidTo, smstest.CodeRegionNotEnabled, smstest.CodeUnsubscribed, smstest.CodeUnreachable, smstest.CodeNotMobile} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			t.Parallel()
			srv := smstest.NewServer(t, smstest.WithoutRateLimit())
			acct := srv.NewAccount()
			ch := sms.New(channeltest.NewClient(t), nil)
			to := []string{"+14155550100", "+14155550101", "+14155550102"}
			srv.Refuse(to[1], code)
			o := ch.Send(t.Context(), channeltest.Sample(destination(srv, acct, to...), 1))
			if o.Kind != channel.Permanent || o.StatusCode != http.StatusBadRequest {
				t.Fatalf("outcome = %+v, want permanent 400", o)
			}
			want := fmt.Sprintf("%s: HTTP 400: Twilio error %d", to[1], code)
			if !strings.Contains(o.Reason, want) || !strings.Contains(o.Reason, "sent to 2 of 3") {
				t.Errorf("reason %q, want it to contain %q and the count", o.Reason, want)
			}
			got := map[string]bool{}
			for _, m := range srv.Messages() {
				got[m.To] = true
			}
			if !got[to[0]] || got[to[1]] || !got[to[2]] {
				t.Errorf("messages went to %v, want %s and %s", got, to[0], to[2])
			}
		})
	}
}

// TestSMSAccountFailureStops checks that a failure of the account (wrong credentials) stops
// the send at the first recipient: the others would fail alike.
func TestSMSAccountFailureStops(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	acct := srv.NewAccount()
	ch := sms.New(channeltest.NewClient(t), nil)
	d := sms.Destination("phones", srv.URL, acct.SID, "0123456789abcdef0123456789abcdef", acct.From, "+14155550100", "+14155550101")
	o := ch.Send(t.Context(), channeltest.Sample(d, 0))
	if o.Kind != channel.Permanent || o.StatusCode != http.StatusUnauthorized || !strings.Contains(o.Reason, "Twilio error 20003") {
		t.Fatalf("outcome = %+v, want permanent 401 with error 20003", o)
	}
	if srv.Requests() != 1 {
		t.Errorf("%d requests, want 1: the send should stop after an account failure", srv.Requests())
	}
	if strings.Contains(o.Reason, "0123456789abcdef0123456789abcdef") {
		t.Errorf("reason %q leaks the token", o.Reason)
	}
}

// TestSMSErrorCodes checks each documented Twilio error's outcome; the reason names the status
// and the code, and quotes Twilio's message.
// https://www.twilio.com/docs/api/errors
func TestSMSErrorCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status, code int
		message      string
		want         channel.Kind
	}{
		{400, 21211, "The 'To' number +15005550001 is not a valid phone number.", channel.Permanent},
		{400, 21614, "'To' number is not a valid mobile number", channel.Permanent},
		{400, 21617, "The concatenated message body exceeds the 1600 character limit.", channel.Permanent},
		{400, 21610, "Attempt to send to unsubscribed recipient", channel.Permanent},
		{400, 21408, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15005550001.", channel.Permanent},
		{401, 20003, "Authenticate", channel.Permanent},
		{404, 20404, "The requested resource was not found", channel.Permanent},
		{400, 21606, "The From phone number is not a valid, SMS-capable inbound phone number or short code for your account.", channel.Permanent},
		{429, 20429, "Too Many Requests", channel.Retry},
		{503, 20429, "Too Many Requests", channel.Retry},
		{500, 20500, "Internal Server Error", channel.Retry},
		{503, 20503, "Service Unavailable", channel.Retry},
		{502, 0, "", channel.Retry},
		{400, 99999, "Something new", channel.Permanent},
	}
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	acct := srv.NewAccount()
	ch := sms.New(channeltest.NewClient(t), nil)
	d := destination(srv, acct, "+14155550100")
	for i, c := range cases {
		t.Run(fmt.Sprintf("%d %d", c.status, c.code), func(t *testing.T) {
			f := smstest.Failure{Status: c.status, Code: c.code, Message: c.message}
			if c.code == 0 {
				f.Raw = "<html>bad gateway</html>"
			}
			srv.Inject(f)
			o := ch.Send(t.Context(), channel.Notification{DeliveryID: fmt.Sprintf("codes-%d", i), Attempt: 1, Event: render.Samples()[0], Destination: d})
			if o.Kind != c.want || o.StatusCode != c.status {
				t.Fatalf("outcome = %+v, want %s with status %d", o, c.want, c.status)
			}
			if !strings.Contains(o.Reason, fmt.Sprint(c.status)) {
				t.Errorf("reason %q does not name the status", o.Reason)
			}
			if c.code != 0 && (!strings.Contains(o.Reason, fmt.Sprint(c.code)) || !strings.Contains(o.Reason, c.message)) {
				t.Errorf("reason %q does not quote code %d and its message", o.Reason, c.code)
			}
			if c.want == channel.Permanent && o.RetryAfter != 0 {
				t.Errorf("RetryAfter = %s on a permanent outcome", o.RetryAfter)
			}
			if wantPause := c.code == 20429 || c.status == 429; wantPause != (o.Pause > 0) {
				t.Errorf("Pause = %s; a pause belongs to 429 and 20429 alone", o.Pause)
			}
		})
	}
}

// TestSMSRateLimitedByFake provokes the fake's own 429 and checks that the outcome pauses the
// sender, for the named Retry-After or, without one, for the pace window.
func TestSMSRateLimitedByFake(t *testing.T) {
	t.Parallel()
	for _, withHeader := range []bool{false, true} {
		t.Run(fmt.Sprintf("Retry-After %v", withHeader), func(t *testing.T) {
			t.Parallel()
			opts := []smstest.Option{smstest.WithRateLimit(time.Hour, 1)}
			if withHeader {
				opts = append(opts, smstest.WithRetryAfter())
			}
			srv := smstest.NewServer(t, opts...)
			acct := srv.NewAccount()
			ch := sms.New(channeltest.NewClient(t), nil, sms.WithPace(time.Second, 2))
			d := destination(srv, acct, "+14155550100")
			o := channeltest.SendPastLimit(t, ch, d)
			wantAfter, wantPause := time.Duration(0), 2*time.Second
			if withHeader {
				wantAfter, wantPause = time.Hour, time.Hour
			}
			if o.RetryAfter != wantAfter || o.Pause != wantPause {
				t.Errorf("RetryAfter = %s, Pause = %s, want %s and %s", o.RetryAfter, o.Pause, wantAfter, wantPause)
			}
			if rej := srv.Rejected(); len(rej) != 1 || rej[0].Err.Code != smstest.CodeTooManyRequests {
				t.Errorf("rejections = %+v, want one 20429", rej)
			}
		})
	}
}

func TestSMSValidate(t *testing.T) {
	t.Parallel()
	const (
		sid   = "AC0123456789abcdef0123456789abcdef"
		token = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
		from  = "+15005550006"
	)
	ch := sms.New(channeltest.NewClient(t), nil)
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = fmt.Sprintf("+1415555%04d", i)
	}
	cases := []struct {
		name  string
		cfg   sms.Config
		field string // "" when valid
	}{
		{"valid", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+14155550100"}}, ""},
		{"valid with API URL and base path", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+14155550100"}, APIURL: "http://127.0.0.1:8080/twilio"}, ""},
		{"ten recipients", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: eleven[:10]}, ""},
		{"no sid", sms.Config{AuthToken: token, From: from, To: []string{"+14155550100"}}, "account_sid"},
		{"sid shape", sms.Config{AccountSID: "SK0123456789abcdef0123456789abcdef", AuthToken: token, From: from, To: []string{"+14155550100"}}, "account_sid"},
		{"no token", sms.Config{AccountSID: sid, From: from, To: []string{"+14155550100"}}, "auth_token"},
		{"token with a space", sms.Config{AccountSID: sid, AuthToken: "f00d feed", From: from, To: []string{"+14155550100"}}, "auth_token"},
		{"no from", sms.Config{AccountSID: sid, AuthToken: token, To: []string{"+14155550100"}}, "from"},
		{"from not E.164", sms.Config{AccountSID: sid, AuthToken: token, From: "15005550006", To: []string{"+14155550100"}}, "from"},
		{"no to", sms.Config{AccountSID: sid, AuthToken: token, From: from}, "to"},
		{"eleven to", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: eleven}, "to"},
		{"to too short", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+1415555"}}, "to"},
		{"to too long", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+1234567890123456"}}, "to"},
		{"to with spaces", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+1 415 555 0100"}}, "to"},
		{"to leading zero", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+04155550100"}}, "to"},
		{"to twice", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+14155550100", "+14155550100"}}, "to"},
		{"to is from", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{from}}, "to"},
		{"API URL ftp", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+14155550100"}, APIURL: "ftp://api.twilio.com"}, "api_url"},
		{"API URL credentials", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+14155550100"}, APIURL: "https://u:" + token + "@api.twilio.com"}, "api_url"},
		{"API URL query", sms.Config{AccountSID: sid, AuthToken: token, From: from, To: []string{"+14155550100"}, APIURL: "https://api.twilio.com?x=1"}, "api_url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := c.cfg
			err := channeltest.CheckValidate(t, ch, channel.Destination{ID: "d", Channel: sms.Name, Config: &cfg}, c.field, token)
			if c.field != "" && !errors.Is(err, channel.ErrConfig) {
				t.Fatalf("Validate = %v, want it to wrap ErrConfig", err)
			}
		})
	}
	if err := ch.Validate(channel.Destination{Channel: "slack", Config: &sms.Config{}}); !errors.Is(err, channel.ErrInvalidDestination) {
		t.Errorf("destination of another channel: %v", err)
	}
}

// TestSMSConfigFromEnv reads the operator's destination from its variables, as the
// configuration loader does, and a tenant's from its JSON.
func TestSMSConfigFromEnv(t *testing.T) {
	t.Parallel()
	spec := sms.Provider{}.Spec()
	env := map[string]string{
		"NOTIFICATIONS_SMS_ENABLED":        "true",
		"NOTIFICATIONS_TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"NOTIFICATIONS_TWILIO_AUTH_TOKEN":  "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
		"NOTIFICATIONS_TWILIO_FROM":        "+15005550006",
		"NOTIFICATIONS_SMS_TO":             `["+14155550100","+447700900123"]`,
	}
	cfg, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.(*sms.Config)
	if c.APIURL != sms.DefaultAPIURL || len(c.To) != 2 || c.From != "+15005550006" {
		t.Fatalf("config = %+v", c)
	}
	if got := channel.Masked(spec, cfg)["auth_token"]; got != "****b1a0" {
		t.Errorf("masked auth_token = %v", got)
	}
	env["NOTIFICATIONS_SMS_TO"] = `["+14155550100","0800 123"]`
	_, err = channel.ConfigFromEnv(spec, func(k string) string { return env[k] })
	var ve *channel.VarError
	if !errors.As(err, &ve) || ve.Var != "NOTIFICATIONS_SMS_TO" || !strings.Contains(ve.Reason, "to[1]") {
		t.Errorf("bad number: %v, want an error naming NOTIFICATIONS_SMS_TO and to[1]", err)
	}
	delete(env, "NOTIFICATIONS_TWILIO_AUTH_TOKEN")
	env["NOTIFICATIONS_SMS_TO"] = `["+14155550100"]`
	if _, err := channel.ConfigFromEnv(spec, func(k string) string { return env[k] }); !errors.As(err, &ve) || ve.Var != "NOTIFICATIONS_TWILIO_AUTH_TOKEN" {
		t.Errorf("no token: %v, want an error naming NOTIFICATIONS_TWILIO_AUTH_TOKEN", err)
	}
	for _, f := range spec.Fields {
		if f.Tenant != (f.Name == "to") {
			t.Errorf("field %s: Tenant = %v; only to is a tenant's", f.Name, f.Tenant)
		}
	}
}

func TestSMSPace(t *testing.T) {
	t.Parallel()
	a := sms.Destination("a", "", "AC0123456789abcdef0123456789abcdef", "tokentokentokentokentokentoken12", "+15005550006", "+14155550100")
	b := sms.Destination("b", "", "AC0123456789abcdef0123456789abcdef", "tokentokentokentokentokentoken12", "+15005550006", "+14155550199")
	c := sms.Destination("c", "", "AC0123456789abcdef0123456789abcdef", "tokentokentokentokentokentoken12", "+15005550007", "+14155550100")
	ch := sms.New(nil, nil)
	p := ch.Pace(a)
	if p.Every != time.Second || p.Burst != 5 || !strings.HasPrefix(p.Key, "sms:") || len(p.Key) != len("sms:")+16 {
		t.Fatalf("Pace = %+v, want sms:<16 hex>, 1s, burst 5", p)
	}
	if ch.Pace(b).Key != p.Key {
		t.Error("two destinations of one sender number have different pace keys")
	}
	if ch.Pace(c).Key == p.Key {
		t.Error("two sender numbers share a pace key")
	}
	if got := sms.New(nil, nil, sms.WithPace(250*time.Millisecond, 3)).Pace(a); got.Every != 250*time.Millisecond || got.Burst != 3 || got.Key != p.Key {
		t.Errorf("WithPace: %+v", got)
	}
}

// TestSMSPreviewIsWhatSendPosts compares Preview's body with what the fake received.
func TestSMSPreviewIsWhatSendPosts(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	acct := srv.NewAccount()
	ch := sms.New(channeltest.NewClient(t), nil)
	d := destination(srv, acct, "+14155550100")
	last := func() smstest.Message { msgs := srv.Messages(); return msgs[len(msgs)-1] }
	channeltest.CheckPreviewIsWhatSendPosts(t, ch, d, sms.ContentType,
		func() []byte {
			got := last()
			return []byte(url.Values{"To": {got.To}, "From": {got.From}, "Body": {got.Body}}.Encode())
		},
		func(n channel.Notification, pv channel.Preview) {
			if got := last(); pv.Text != got.Body {
				t.Fatalf("%s: preview text %q differs from the posted %q", n.Event.Type, pv.Text, got.Body)
			}
		})
	if pv, err := ch.Preview(channel.Notification{Event: render.Samples()[0]}); err != nil || !strings.Contains(string(pv.Body), "From=%2B15005550006") {
		t.Errorf("Preview without a destination = %q, %v; want the preview configuration's", pv.Body, err)
	}
}

// TestProfileLoads checks that the embedded templates load, each test-rendered with every
// sample, as they are at start.
func TestProfileLoads(t *testing.T) {
	t.Parallel()
	p := sms.Provider{}.Render()
	if p == nil || p.Channel != sms.Name {
		t.Fatalf("Render() = %+v", p)
	}
	set := render.MustLoad(*p)
	if got := set.Types(); len(got) != len(render.Samples())-1 {
		t.Errorf("templates for %v, want one per seed type", got)
	}
}
