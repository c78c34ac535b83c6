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
		{"https://user:pa55word@example.com/hook", "https://user:***@example.com/hook"},
		{"https://example.com", "https://example.com"},
		{"not a url", "***"},
		{"https://exa mple.com/", "***"},
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

func TestTextSecrets(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		secrets []string
		want    string
	}{
		{"nothing here", nil, "nothing here"},
		{"key re_live_abcdef used twice: re_live_abcdef", []string{"re_live_abcdef"}, "key *** used twice: ***"},
		{"short abc stays", []string{"abc"}, "short abc stays"},
		{"whsec_abcdefgh", []string{"abcdefgh", "whsec_abcdefgh"}, "***"}, // longest first
		{`post "https://discord.com/api/webhooks/1/tok3n": refused`, nil, `post "https://discord.com/api/webhooks/***": refused`},
		{"", []string{"secret"}, ""},
	}
	for _, c := range cases {
		if got := Text(c.in, c.secrets...); got != c.want {
			t.Errorf("Text(%q, %q) = %q, want %q", c.in, c.secrets, got, c.want)
		}
	}
}
