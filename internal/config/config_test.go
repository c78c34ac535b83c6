package config

import (
	"errors"
	"os"
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
		"NOTIFICATIONS_DESTINATIONS":    `[{"id":"audit","channel":"webhook","url":"https://audit.example.com","secret":"whsec_abc"}]`,
		"NOTIFICATIONS_ROUTES":          `{"payment.*":["webhook"],"*":["audit"]}`,
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Destinations) != 2 || c.Destinations[0].Method != "PUT" || c.Destinations[0].Headers["X-Team"] != "ops" {
		t.Fatalf("destinations = %+v", c.Destinations)
	}
	if got := c.Channels(); len(got) != 1 || got[0] != "webhook" {
		t.Errorf("channels = %v", got)
	}
	if len(c.Routes) != 2 {
		t.Errorf("routes = %v", c.Routes)
	}
	secrets := strings.Join(c.Secrets(), " ")
	if !strings.Contains(secrets, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") || !strings.Contains(secrets, "whsec_abc") {
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
		name       string
		env        map[string]string
		url        string
		secret     string
		secretVar  string
		urlVarWant string
	}{
		{"resend by default", with(map[string]string{"NOTIFICATIONS_RESEND_API_KEY": "re_123456789abc"}),
			"https://api.resend.com", "re_123456789abc", "NOTIFICATIONS_RESEND_API_KEY", "NOTIFICATIONS_RESEND_API_URL"},
		{"smtp with STARTTLS and auth", with(map[string]string{"NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "mail.example.com",
			"NOTIFICATIONS_SMTP_USERNAME": "herald", "NOTIFICATIONS_SMTP_PASSWORD": "hunter2hunter2"}),
			"smtp://herald@mail.example.com:587?tls=starttls", "hunter2hunter2", "NOTIFICATIONS_SMTP_PASSWORD", "NOTIFICATIONS_SMTP_HOST"},
		{"smtp on 465 is implicit TLS", with(map[string]string{"NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "mail.example.com", "NOTIFICATIONS_SMTP_PORT": "465"}),
			"smtp://mail.example.com:465?tls=implicit", "", "NOTIFICATIONS_SMTP_PASSWORD", "NOTIFICATIONS_SMTP_HOST"},
		{"smtp to a local relay", with(map[string]string{"NOTIFICATIONS_EMAIL_PROVIDER": "smtp", "NOTIFICATIONS_SMTP_HOST": "127.0.0.1", "NOTIFICATIONS_SMTP_PORT": "1025", "NOTIFICATIONS_SMTP_TLS": "none"}),
			"smtp://127.0.0.1:1025?tls=none", "", "NOTIFICATIONS_SMTP_PASSWORD", "NOTIFICATIONS_SMTP_HOST"},
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
			if d.Channel != "email" || d.URL != c.url || d.Secret != c.secret || d.From != base["NOTIFICATIONS_EMAIL_FROM"] || len(d.To) != 2 {
				t.Errorf("destination = %+v, want url %s", d, c.url)
			}
			if v := cfg.VarOf(d.ID, "secret"); v != c.secretVar {
				t.Errorf("VarOf(secret) = %s, want %s", v, c.secretVar)
			}
			if v := cfg.VarOf(d.ID, "url"); v != c.urlVarWant {
				t.Errorf("VarOf(url) = %s, want %s", v, c.urlVarWant)
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
