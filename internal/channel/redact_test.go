package channel_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
)

func TestSecretsOf(t *testing.T) {
	t.Parallel()
	const secret = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA whsec_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
	d := channel.Destination{ID: "d", Channel: "webhook"}
	got := channel.SecretsOf([]string{secret}, map[string]string{"Authorization": "Bearer t0ken-value"},
		"https://bob:pa55word@example.com/api/hooks/tok%2Fen123/more?sig=abc%2F123456&x=1")
	for _, want := range []string{
		secret,
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
