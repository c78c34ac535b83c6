package config

import (
	"errors"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/channel/slack"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func getenv(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(getenv(nil), ":8080")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Enabled || c.SubjectPrefix != "herald" || c.HTTPAddr != ":8080" || c.NATSURL != "" || c.DatabaseURL != "" {
		t.Errorf("unexpected defaults: %+v", c)
	}
	if c.Retry.MaxRetries != 3 || c.Retry.Attempts() != 4 || c.Retry.MaxDelay != 5*time.Minute {
		t.Errorf("retry defaults = %+v", c.Retry)
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	if len(c.Retry.Backoff) != len(want) {
		t.Fatalf("backoff = %v, want %v", c.Retry.Backoff, want)
	}
	for i := range want {
		if c.Retry.Backoff[i] != want[i] {
			t.Errorf("backoff = %v, want %v", c.Retry.Backoff, want)
		}
	}
	if c.IdempotencyWindow != 24*time.Hour || c.DuplicateWindow != 2*time.Minute {
		t.Errorf("windows = %s, %s", c.IdempotencyWindow, c.DuplicateWindow)
	}
	if c.Routes != nil || len(c.Destinations) != 0 {
		t.Errorf("routes %v, destinations %v; want none", c.Routes, c.Destinations)
	}
}

func TestLoadOperatorDestinations(t *testing.T) {
	t.Parallel()
	c, err := Load(getenv(map[string]string{
		"NOTIFICATIONS_WEBHOOK_ENABLED": "true",
		"NOTIFICATIONS_WEBHOOK_URL":     "https://example.com/hook",
		"NOTIFICATIONS_WEBHOOK_SECRET":  "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"NOTIFICATIONS_WEBHOOK_METHOD":  "put",
		"NOTIFICATIONS_WEBHOOK_HEADERS": `{"X-Team":"ops"}`,
		"NOTIFICATIONS_DESTINATIONS":    `[{"id":"audit","channel":"webhook","url":"https://audit.example.com","secret":"whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"},{"id":"ops-slack","channel":"slack","config":{"webhook_url":"https://hooks.slack.com/services/T1/B1/abcdefabcdef"}}]`,
		"NOTIFICATIONS_ROUTES":          `{"payment.*":["webhook"],"*":["audit"]}`,
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Destinations) != 3 {
		t.Fatalf("destinations = %+v", c.Destinations)
	}
	if w := c.Destinations[0].Config.(*webhook.Config); !strings.EqualFold(w.Method, "PUT") || w.Headers["X-Team"] != "ops" {
		t.Fatalf("webhook = %+v", w)
	}
	if a := c.Destinations[1].Config.(*webhook.Config); a.URL != "https://audit.example.com" {
		t.Fatalf("audit (the earlier flat form) = %+v", a)
	}
	if sl := c.Destinations[2].Config.(*slack.Config); sl.WebhookURL != "https://hooks.slack.com/services/T1/B1/abcdefabcdef" {
		t.Fatalf("slack (the API's form) = %+v", sl)
	}
	if got := c.Channels(); len(got) != 2 || got[0] != "webhook" || got[1] != "slack" {
		t.Errorf("channels = %v", got)
	}
	if len(c.Routes) != 2 {
		t.Errorf("routes = %v", c.Routes)
	}
	secrets := strings.Join(c.Secrets(), " ")
	if !strings.Contains(secrets, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") || !strings.Contains(secrets, "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD") ||
		!strings.Contains(secrets, "abcdefabcdef") {
		t.Errorf("Secrets() misses a secret")
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		name string
	}{
		{map[string]string{"NOTIFICATIONS_ENABLED": "maybe"}, "NOTIFICATIONS_ENABLED"},
		{map[string]string{"NOTIFICATIONS_MAX_RETRIES": "-1"}, "NOTIFICATIONS_MAX_RETRIES"},
		{map[string]string{"NOTIFICATIONS_MAX_RETRIES": "three"}, "NOTIFICATIONS_MAX_RETRIES"},
		{map[string]string{"NOTIFICATIONS_RETRY_BACKOFF": "5s,soon"}, "NOTIFICATIONS_RETRY_BACKOFF"},
		{map[string]string{"NOTIFICATIONS_RETRY_MAX_DELAY": "0"}, "NOTIFICATIONS_RETRY_MAX_DELAY"},
		{map[string]string{"NOTIFICATIONS_SUBJECT_PREFIX": "a.b"}, "NOTIFICATIONS_SUBJECT_PREFIX"},
		{map[string]string{"NOTIFICATIONS_WEBHOOK_ENABLED": "true"}, "NOTIFICATIONS_WEBHOOK_URL"},
		{map[string]string{"NOTIFICATIONS_ROUTES": `{"payment.*":`}, "NOTIFICATIONS_ROUTES"},
		{map[string]string{"NOTIFICATIONS_ROUTES": `{"payment.*":["sms"]}`}, "NOTIFICATIONS_ROUTES"},
		{map[string]string{"NOTIFICATIONS_DESTINATIONS": `[{"id":"a b","channel":"webhook"}]`}, "NOTIFICATIONS_DESTINATIONS"},
		{map[string]string{"NOTIFICATIONS_EMAIL_ENABLED": "true", "NOTIFICATIONS_RESEND_API_KEY": "re_x", "NOTIFICATIONS_EMAIL_FROM": "a@b.c", "NOTIFICATIONS_EMAIL_TO": "ops@b.c"}, "NOTIFICATIONS_EMAIL_TO"},
		{map[string]string{"NOTIFICATIONS_MAX_CONCURRENT": "4", "NOTIFICATIONS_RETRY_WORKERS": "8"}, "NOTIFICATIONS_RETRY_WORKERS"},
		{map[string]string{"NOTIFICATIONS_LOG_FORMAT": "xml"}, "NOTIFICATIONS_LOG_FORMAT"},
		{map[string]string{"NOTIFICATIONS_DISCORD_ENABLED": "true"}, "NOTIFICATIONS_DISCORD_WEBHOOK_URL"},
		{map[string]string{"NOTIFICATIONS_SLACK_ENABLED": "true"}, "NOTIFICATIONS_SLACK_WEBHOOK_URL"},
		{map[string]string{"NOTIFICATIONS_EMAIL_ENABLED": "true", "NOTIFICATIONS_EMAIL_FROM": "a@b.c", "NOTIFICATIONS_EMAIL_TO": `["ops@b.c"]`}, "NOTIFICATIONS_RESEND_API_KEY"},
		{map[string]string{"NOTIFICATIONS_EMAIL_ENABLED": "true", "NOTIFICATIONS_EMAIL_FROM": "a@b.c", "NOTIFICATIONS_EMAIL_TO": `["ops@b.c"]`, "NOTIFICATIONS_EMAIL_PROVIDER": "ses"}, "NOTIFICATIONS_EMAIL_PROVIDER"},
		{map[string]string{"NOTIFICATIONS_EMAIL_ENABLED": "true", "NOTIFICATIONS_EMAIL_FROM": "a@b.c", "NOTIFICATIONS_EMAIL_TO": `["ops@b.c"]`, "NOTIFICATIONS_EMAIL_PROVIDER": "smtp"}, "NOTIFICATIONS_SMTP_HOST"},
		{map[string]string{"NOTIFICATIONS_EMAIL_ENABLED": "true", "NOTIFICATIONS_EMAIL_FROM": "a@b.c", "NOTIFICATIONS_EMAIL_TO": `["ops@b.c"]`, "NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "mail", "NOTIFICATIONS_SMTP_USERNAME": "herald"}, "NOTIFICATIONS_SMTP_PASSWORD"},
		{map[string]string{"NOTIFICATIONS_EMAIL_ENABLED": "true", "NOTIFICATIONS_EMAIL_FROM": "a@b.c", "NOTIFICATIONS_EMAIL_TO": `["ops@b.c"]`, "NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "mail", "NOTIFICATIONS_SMTP_TLS": "ssl"}, "NOTIFICATIONS_SMTP_TLS"},
	}
	for _, c := range cases {
		_, err := Load(getenv(c.env), "")
		var ce *Error
		if !errors.As(err, &ce) || ce.Var != c.name {
			t.Errorf("env %v: error %v, want one naming %s", c.env, err, c.name)
		}
	}
}

func TestRouteMatches(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, typ string
		want         bool
	}{
		{"*", "payment.failed", true},
		{"payment.*", "payment.failed", true},
		{"payment.*", "payment.refund.partial", true},
		{"payment.*", "paymentx.failed", false},
		{"payment.failed", "payment.failed", true},
		{"payment.failed", "payment.succeeded", false},
		{"node.*.warning", "node.health.warning", true},
	}
	for _, c := range cases {
		if got := (Route{Pattern: c.pattern}).Matches(c.typ); got != c.want {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.typ, got, c.want)
		}
	}
}

func TestLoadEmailProviders(t *testing.T) {
	t.Parallel()
	base := map[string]string{
		"NOTIFICATIONS_EMAIL_ENABLED": "true",
		"NOTIFICATIONS_EMAIL_FROM":    "Herald <alerts@example.com>",
		"NOTIFICATIONS_EMAIL_TO":      `["ops@example.com","cto@example.com"]`,
	}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name      string
		env       map[string]string
		want      email.Config
		secretVar string
	}{
		{"resend by default", with(map[string]string{"NOTIFICATIONS_RESEND_API_KEY": "re_123456789abc"}),
			email.Config{Provider: "resend", ResendAPIKey: "re_123456789abc", ResendAPIURL: "https://api.resend.com"}, "NOTIFICATIONS_RESEND_API_KEY"},
		{"smtp with STARTTLS and auth", with(map[string]string{"NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "mail.example.com",
			"NOTIFICATIONS_SMTP_USERNAME": "herald", "NOTIFICATIONS_SMTP_PASSWORD": "hunter2hunter2"}),
			email.Config{Provider: "smtp", SMTPHost: "mail.example.com", SMTPUsername: "herald", SMTPPassword: "hunter2hunter2", ResendAPIURL: "https://api.resend.com"},
			"NOTIFICATIONS_SMTP_PASSWORD"},
		{"smtp on 465", with(map[string]string{"NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "mail.example.com", "NOTIFICATIONS_SMTP_PORT": "465"}),
			email.Config{Provider: "smtp", SMTPHost: "mail.example.com", SMTPPort: 465, ResendAPIURL: "https://api.resend.com"}, "NOTIFICATIONS_SMTP_PASSWORD"},
		{"smtp to a local relay", with(map[string]string{"NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "127.0.0.1", "NOTIFICATIONS_SMTP_PORT": "1025", "NOTIFICATIONS_SMTP_TLS": "none"}),
			email.Config{Provider: "smtp", SMTPHost: "127.0.0.1", SMTPPort: 1025, SMTPTLS: "none", ResendAPIURL: "https://api.resend.com"}, "NOTIFICATIONS_SMTP_PASSWORD"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load(getenv(c.env), "")
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Destinations) != 1 {
				t.Fatalf("destinations = %+v", cfg.Destinations)
			}
			d := cfg.Destinations[0]
			got := *d.Config.(*email.Config)
			want := c.want
			want.From, want.To = base["NOTIFICATIONS_EMAIL_FROM"], got.To
			if d.Channel != "email" || !reflect.DeepEqual(got, want) || len(got.To) != 2 {
				t.Errorf("destination = %+v, want %+v", got, want)
			}
			field := "resend_api_key"
			if c.want.Provider == "smtp" {
				field = "smtp_password"
			}
			if v := cfg.VarOf(d.ID, field); v != c.secretVar {
				t.Errorf("VarOf(%s) = %s, want %s", field, v, c.secretVar)
			}
		})
	}
}

// TestEveryVariableIsDocumented: each variable Load reads is in .env.notifications.example
// and in the README, where operators look for it.
func TestEveryVariableIsDocumented(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`"(NOTIFICATIONS_[A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(vars) < 30 {
		t.Fatalf("found only %d variables in config.go", len(vars))
	}
	// Every channel's variables, from the channels themselves.
	for _, p := range all.Providers() {
		for _, v := range p.Spec().Vars() {
			vars = append(vars, []string{v, v})
		}
	}
	for _, doc := range []string{"../../.env.notifications.example", "../../README.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vars {
			name := v[1]
			// The README's table groups variables as NOTIFICATIONS_X_ENABLED, `_URL`, ...
			short := "_" + name[strings.LastIndex(name, "_")+1:]
			if !strings.Contains(string(b), name) && (doc == "../../.env.notifications.example" || !strings.Contains(string(b), short)) {
				t.Errorf("%s does not document %s", doc, name)
			}
		}
	}
}
