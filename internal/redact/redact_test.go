package redact

import (
	"strings"
	"testing"
)

func TestURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"", ""},
		{"https://discord.com/api/webhooks/123/tok3n", "https://discord.com/api/webhooks/***"},
		{"https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/services/T0/***"},
		{"https://example.com/hook?token=abc", "https://example.com/hook?***"},
		{"postgres://herald:s3cret@db:5432/herald?sslmode=disable", "postgres://herald:***@db:5432/herald?***"},
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"not a url", "***"},
	}
	for _, c := range cases {
		if got := URL(c.in); got != c.want {
			t.Errorf("URL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestText(t *testing.T) {
	t.Parallel()
	in := `post "https://discord.com/api/webhooks/123/tok3n": dial tcp: refused; key re_live_abcdef`
	got := Text(in, "re_live_abcdef")
	for _, leak := range []string{"tok3n", "re_live_abcdef"} {
		if strings.Contains(got, leak) {
			t.Errorf("Text leaked %q: %s", leak, got)
		}
	}
	if !strings.Contains(got, "discord.com") {
		t.Errorf("Text lost the host: %s", got)
	}
}
