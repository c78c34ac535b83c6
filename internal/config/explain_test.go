package config

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
)

const goodSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// TestLoadErrorsSayWhatIsWrongOnce runs Load on mistakes a first run makes and checks the
// whole message: the variable, what is wrong, the URL masked only where it may hold a
// secret, and no layer's prefix repeated.
func TestLoadErrorsSayWhatIsWrongOnce(t *testing.T) {
	t.Parallel()
	webhookEnv := func(url, secret string) map[string]string {
		return map[string]string{"NOTIFICATIONS_WEBHOOK_ENABLED": "true", "NOTIFICATIONS_WEBHOOK_URL": url, "NOTIFICATIONS_WEBHOOK_SECRET": secret}
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		secrets []string
	}{
		{"no scheme", webhookEnv("example.com/hooks/herald", goodSecret),
			"NOTIFICATIONS_WEBHOOK_URL: example.com/hooks/herald has no scheme: write the whole URL, starting with https:// (or http://)", nil},
		{"no scheme, token in path", webhookEnv("hooks.example.com/services/T0/B0/tok3nsecret?sig=qu3rysecret", goodSecret),
			"NOTIFICATIONS_WEBHOOK_URL: hooks.example.com/services/T0/*** has no scheme: write the whole URL, starting with https:// (or http://)",
			[]string{"tok3nsecret", "qu3rysecret"}},
		{"missing colon", webhookEnv("http//example.com/hook", goodSecret),
			"NOTIFICATIONS_WEBHOOK_URL: http//example.com/*** has no scheme", nil},
		{"wrong scheme shows the URL", webhookEnv("ftp://user:pa55word@example.com/x?token=qu3rysecret", goodSecret),
			"NOTIFICATIONS_WEBHOOK_URL: url ftp://user:***@example.com/x?***: scheme must be http or https", []string{"pa55word", "qu3rysecret"}},
		{"bad host", webhookEnv("http://exa mple.com/hook", goodSecret),
			`NOTIFICATIONS_WEBHOOK_URL: http://exa mple.com/hook is not a valid URL: invalid character " " in host name`, nil},
		{"bad secret", webhookEnv("https://example.com/hook", "whsec_n0t-base64!"),
			`NOTIFICATIONS_WEBHOOK_SECRET: invalid webhook secret: secret 1 of 1 is not standard base64 after "whsec_"`, []string{"n0t-base64"}},
		{"slack without scheme", map[string]string{"NOTIFICATIONS_SLACK_ENABLED": "true", "NOTIFICATIONS_SLACK_WEBHOOK_URL": "hooks.slack.com/services/T0/B0/tok3nsecret"},
			"NOTIFICATIONS_SLACK_WEBHOOK_URL: hooks.slack.com/services/T0/*** has no scheme", []string{"tok3nsecret"}},
		{"telegram token", map[string]string{"NOTIFICATIONS_TELEGRAM_ENABLED": "true", "NOTIFICATIONS_TELEGRAM_BOT_TOKEN": "n0tAt0ken", "NOTIFICATIONS_TELEGRAM_CHAT_ID": "1"},
			"NOTIFICATIONS_TELEGRAM_BOT_TOKEN: bot token is not of the form", []string{"n0tAt0ken"}},
		{"database URL", map[string]string{"NOTIFICATIONS_DATABASE_URL": "postgres://herald:pa55word@db:54x2/herald"},
			"NOTIFICATIONS_DATABASE_URL: is not a valid PostgreSQL URL", []string{"pa55word"}},
		{"database sslmode", map[string]string{"NOTIFICATIONS_DATABASE_URL": "postgres://herald:pa55word@db/herald?sslmode=bogus"},
			"NOTIFICATIONS_DATABASE_URL: is not a valid PostgreSQL URL: failed to configure TLS (sslmode is invalid)", []string{"pa55word"}},
		{"database key=value", map[string]string{"NOTIFICATIONS_DATABASE_URL": "host=db password=pa55word port=x"},
			"NOTIFICATIONS_DATABASE_URL: is not a valid PostgreSQL URL", []string{"pa55word"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(getenv(tt.env), "")
			if err == nil {
				t.Fatal("Load succeeded")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error\n %s\nwant it to start with\n %s", msg, tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(msg, s) {
					t.Errorf("error %q shows the secret %q", msg, s)
				}
			}
			for _, stutter := range []string{"invalid configuration", "invalid destination", "new webhook signer", "webhook: "} {
				if strings.Contains(msg, stutter) {
					t.Errorf("error %q repeats %q", msg, stutter)
				}
			}
		})
	}
}

func TestLoadAcceptsAValidDatabaseURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"postgres://herald:secret@db:5432/herald?sslmode=require", "host=db user=herald dbname=herald"} {
		if _, err := Load(getenv(map[string]string{"NOTIFICATIONS_DATABASE_URL": u}), ""); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestDestinationErrorNamesTheVariableOnce(t *testing.T) {
	t.Parallel()
	c, err := Load(getenv(map[string]string{
		"NOTIFICATIONS_WEBHOOK_ENABLED": "true", "NOTIFICATIONS_WEBHOOK_URL": "https://example.com/h", "NOTIFICATIONS_WEBHOOK_SECRET": goodSecret,
		"NOTIFICATIONS_DESTINATIONS": `[{"id":"audit","channel":"webhook","config":{"url":"https://a.example.com","secret":"` + goodSecret + `"}}]`,
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	got := c.DestinationError(channel.Destination{ID: "webhook", Channel: "webhook"},
		&channel.FieldError{Field: "secret", Err: errJoin(channel.ErrInvalidDestination, "webhook: secret: new webhook signer: invalid webhook secret: no secret given")})
	if got.Var != "NOTIFICATIONS_WEBHOOK_SECRET" || got.Reason != "invalid webhook secret: no secret given" {
		t.Errorf("got %s", got)
	}
	got = c.DestinationError(channel.Destination{ID: "audit", Channel: "webhook"},
		&channel.FieldError{Field: "url", Err: errJoin(channel.ErrInvalidDestination, "webhook: url has no host")})
	if got.Var != "NOTIFICATIONS_DESTINATIONS" || got.Reason != `destination "audit": url has no host` {
		t.Errorf("got %s", got)
	}
}

func errJoin(wrapped error, msg string) error { return fmt.Errorf("%w: %s", wrapped, msg) }
