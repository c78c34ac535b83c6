package natsauth

import (
	"slices"
	"strings"
	"testing"
)

// TestRoleNames: a role's name reads back as the same role, and names that are not roles
// are refused with what is wrong.
func TestRoleNames(t *testing.T) {
	t.Parallel()
	known := []string{"webhook", "slack", "email"}
	for _, r := range []Role{{Kind: Producer}, {Kind: Dispatcher}, {Kind: Admin}, WorkerOf("webhook"),
		WorkerOf("slack", "webhook"), AllWorkers(known)} {
		got, err := ParseRole(r.Name(), known)
		if err != nil || got.Name() != r.Name() || !slices.Equal(got.Channels, r.Channels) {
			t.Errorf("ParseRole(%q) = %+v, %v", r.Name(), got, err)
		}
	}
	if r, _ := ParseRole("worker-webhook,slack", known); r.Name() != "worker-slack+webhook" {
		t.Errorf("worker-webhook,slack is %s", r.Name())
	}
	for _, bad := range []string{"", "root", "worker-", "worker-a.b", "worker-*", "producer-x"} {
		if _, err := ParseRole(bad, known); err == nil {
			t.Errorf("ParseRole(%q) took it", bad)
		}
	}
}

// TestPermissionsFollowThePrefix: every subject a role may use, but the inboxes, the JetStream
// API and key-value subjects, is under the prefix, and no role but admin has a full wildcard.
func TestPermissionsFollowThePrefix(t *testing.T) {
	t.Parallel()
	for _, r := range []Role{{Kind: Producer}, {Kind: Dispatcher}, WorkerOf("webhook", "sms")} {
		p := r.Permissions("acme", "UKEY")
		for _, s := range append(slices.Clone(p.Publish), p.Subscribe...) {
			switch {
			case s == ">" || s == "*.>" || strings.HasPrefix(s, "$JS.API.>"):
				t.Errorf("%s may use %s", r.Name(), s)
			case strings.HasPrefix(s, "herald"):
				t.Errorf("%s: %s is not under the prefix acme", r.Name(), s)
			case strings.HasPrefix(s, "acme."), strings.HasPrefix(s, "$JS."), strings.HasPrefix(s, "$KV.acme_"),
				strings.HasPrefix(s, "_INBOX"):
			default:
				t.Errorf("%s: unexpected subject %s", r.Name(), s)
			}
		}
	}
	if p := (Role{Kind: Admin}).Permissions("acme", "UKEY"); !slices.Equal(p.Publish, []string{">"}) {
		t.Errorf("admin may publish %v", p.Publish)
	}
}
