package channel_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
)

func TestRedactURL(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"", ""},
		{"https://discord.com/api/webhooks/123/tok3n", "https://discord.com/api/webhooks/***"},
		{"https://hooks.slack.com/services/T0/B0/XXXX", "https://hooks.slack.com/services/T0/***"},
		{"https://example.com/hook?token=abc", "https://example.com/hook?***"},
		{"https://user:pa55word@example.com/hook", "https://user:***@example.com/hook"},
		{"https://example.com", "https://example.com"},
		{"not a url", "***"},
		{"https://exa mple.com/", "***"},
	}
	for _, c := range cases {
		if got := channel.RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestRedact(t *testing.T) {
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
		if got := channel.Redact(c.in, c.secrets...); got != c.want {
			t.Errorf("Redact(%q, %q) = %q, want %q", c.in, c.secrets, got, c.want)
		}
	}
}

func TestDestinationSecrets(t *testing.T) {
	t.Parallel()
	d := channel.Destination{
		ID:      "d",
		Channel: "webhook",
		URL:     "https://bob:pa55word@example.com/api/hooks/tok%2Fen123/more?sig=abc%2F123456&x=1",
		Secret:  "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
		Headers: map[string]string{"Authorization": "Bearer t0ken-value"},
	}
	got := d.Secrets()
	for _, want := range []string{
		d.Secret,
		"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
		"Bearer t0ken-value", "t0ken-value",
		"pa55word",
		"sig=abc%2F123456&x=1", "abc/123456", "abc%2F123456",
		"tok%2Fen123", "tok/en123",
	} {
		if !slices.Contains(got, want) {
			t.Errorf("Secrets() lacks %q: %q", want, got)
		}
	}
	for _, not := range []string{"api", "hooks", "more", "1", "example.com"} {
		if slices.Contains(got, not) {
			t.Errorf("Secrets() holds %q, which is routing, not a credential", not)
		}
	}
	// Destination prints without any of it.
	for _, out := range []string{d.String(), fmt.Sprint(d)} {
		for _, s := range []string{"pa55word", "tok%2Fen123", "abc%2F123456"} {
			if strings.Contains(out, s) {
				t.Errorf("%q leaks %q", out, s)
			}
		}
	}
}

func TestOutcomeRedacted(t *testing.T) {
	t.Parallel()
	o := channel.Fail(400, "rejected key sk_live_123456").Redacted("sk_live_123456")
	if o.Reason != "rejected key ***" || o.Kind != channel.Permanent || o.StatusCode != 400 {
		t.Fatalf("Redacted = %+v", o)
	}
}
