package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel/discord/discordtest"
	"github.com/heraldhq/herald/internal/channel/slack/slacktest"
)

// runPreview runs the command without any NATS: preview sends nothing.
func runPreview(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), append([]string{"preview"}, args...), func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// body returns the JSON printed after the "== <channel>" line.
func body(t *testing.T, out string) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(out, "\n")
	if !ok {
		t.Fatalf("no body in %q", out)
	}
	return []byte(rest)
}

func TestPreviewDiscordAndSlackFromFlags(t *testing.T) {
	t.Parallel()
	args := []string{"--type", "payment.failed", "--tenant", "acme", "tenant_id=acme", "reason=card declined", "amount=49.99"}

	code, out, errOut := runPreview(t, nil, append([]string{"--channel", "discord"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b := body(t, out)
	if err := discordtest.ValidatePayload(compact(t, b)); err != nil {
		t.Errorf("Discord would refuse the previewed body: %v", err)
	}
	if !strings.Contains(out, "card declined") || !strings.Contains(out, "49.99") {
		t.Errorf("the preview does not show the event's data:\n%s", out)
	}

	code, out, errOut = runPreview(t, nil, append([]string{"--channel", "slack"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := slacktest.ValidatePayload(compact(t, body(t, out))); err != nil {
		t.Errorf("Slack would refuse the previewed body: %v", err)
	}
}

func TestPreviewEmailWritesTheHTMLPart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	event := filepath.Join(dir, "event.json")
	ev := `{"specversion":"1.0","id":"evt-1","source":"billing","type":"node.terminated","tenantid":"acme",` +
		`"data":{"node_id":"n-42","time_remaining":120,"reason":"spot reclaim <soon>"}}`
	if err := os.WriteFile(event, []byte(ev), 0o644); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "out.html")
	code, out, errOut := runPreview(t, nil, "--channel", "email", "--html", html, "--file", event)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "Subject: [critical]") || !strings.Contains(out, "n-42") {
		t.Errorf("stdout lacks the subject or the text part:\n%s", out)
	}
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatalf("the HTML part was not written: %v", err)
	}
	if !strings.Contains(string(b), "<html") || !strings.Contains(string(b), "n-42") || strings.Contains(string(b), "<soon>") {
		t.Errorf("HTML part is not the escaped email document:\n%s", b)
	}
}

func TestPreviewSamplesAndMistakes(t *testing.T) {
	t.Parallel()
	code, out, errOut := runPreview(t, nil, "--sample", "cost.anomaly_detected", "--html", filepath.Join(t.TempDir(), "x.html"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, ch := range []string{"== discord", "== slack", "== email", "== webhook"} {
		if !strings.Contains(out, ch) {
			t.Errorf("preview of every channel lacks %q", ch)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--sample", "nope.nope"}, "no sample of type"},
		{[]string{"--channel", "pager", "--sample", "payment.failed"}, "unknown channel"},
		{[]string{"--channel", "discord"}, "--type or --file is required"},
	} {
		code, _, errOut := runPreview(t, nil, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	bad := t.TempDir()
	if err := os.MkdirAll(filepath.Join(bad, "dicsord"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, "dicsord", "payment.failed.tmpl"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runPreview(t, map[string]string{"NOTIFICATIONS_TEMPLATES_DIR": bad}, "--sample", "payment.failed")
	if code != 1 || !strings.Contains(errOut, "dicsord") {
		t.Errorf("a misnamed template directory: exit %d, %q; want 1 naming it", code, errOut)
	}
}

func compact(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b)
	}
	return out.Bytes()
}
