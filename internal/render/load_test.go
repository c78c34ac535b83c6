package render

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/heraldhq/herald/sdk"
)

// overrideDir writes files (relative path to content) into a temporary directory.
func overrideDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for rel, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadOverrides(t *testing.T) {
	t.Parallel()
	dir := overrideDir(t, map[string]string{
		"discord/payment.succeeded.tmpl": `{{define "title"}}Cha-ching: {{money .Data.Amount .Data.Currency}}{{end}}
{{define "summary"}}{{.Data.TenantName}} paid.{{end}}
{{define "footer"}}{{.Source}} / {{.Data.PaymentID}}{{end}}`,
		"discord/order.shipped.tmpl": `{{define "title"}}Order {{.Data.order_id | default "?"}} shipped{{end}}
{{define "summary"}}Via {{.Data.carrier | default "?"}}.{{end}}
{{define "fields"}}{{.Field "Tracking" (json .Data.tracking) false}}{{end}}`,
		"email/layout.txt": "{{.Title}} -- {{.Summary}}\n",
		".hidden/whatever": "ignored",
		"slack/.swp":       "ignored",
	})
	s, err := Load(dir, testProfiles()...)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.Render(ChannelDiscord, sample(t, sdk.TypePaymentSucceeded))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "discord", "payment.succeeded.tmpl"); m.Template != want {
		t.Errorf("template = %q, want %q", m.Template, want)
	}
	// The footer is plain text on Discord, so it sees the data unescaped.
	if m.Title != "Cha-ching: $1,249.50" || m.Summary != "Acme Corp paid." || m.Footer != "billing / pay_3QK2x9" {
		t.Errorf("override not used: %+v", m)
	}
	m, err = s.Render(ChannelDiscord, sample(t, CustomSampleType))
	if err != nil {
		t.Fatal(err)
	}
	if m.Title != `Order ord\_8842 shipped` || m.Summary != "Via DHL." || len(m.Fields) != 1 ||
		m.Fields[0].Value != `{"number":"JD014600003SE","url":"https://track.example.com/JD014600003SE"}` {
		t.Errorf("custom-type override not used: %+v", m)
	}
	// Other templates stay embedded.
	m, err = s.Render(ChannelSlack, sample(t, CustomSampleType))
	if err != nil {
		t.Fatal(err)
	}
	if m.Template != "slack/default.tmpl" {
		t.Errorf("slack template = %q", m.Template)
	}
	m, err = s.Render(ChannelEmail, sample(t, sdk.TypePaymentFailed))
	if err != nil {
		t.Fatal(err)
	}
	if m.Template != "email/payment.failed.tmpl" || !strings.HasPrefix(m.Text, "Payment failed: 89.00 for acme -- A payment") || !strings.Contains(m.HTML, "<table") {
		t.Errorf("email: template %q, text %q", m.Template, m.Text)
	}
}

func TestLoadSendTimeErrorNamesTemplate(t *testing.T) {
	t.Parallel()
	dir := overrideDir(t, map[string]string{
		"slack/invoice.paid.tmpl": `{{define "title"}}Invoice paid{{end}}
{{define "summary"}}{{with .Data.amount}}{{money . "USD"}}{{end}}{{end}}`,
	})
	s, err := Load(dir, testProfiles()...)
	if err != nil {
		t.Fatal(err)
	}
	e, err := sdk.New("invoice.paid", "acme", json.RawMessage(`{"amount":"lots"}`), sdk.WithSource("billing"))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "slack", "invoice.paid.tmpl") + ":2:"
	if _, err := s.Render(ChannelSlack, e); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err = %v, want one naming %s", err, want)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  string // in the error, after the directory
	}{
		{"syntax error", map[string]string{"discord/payment.failed.tmpl": "{{define \"title\"}}x{{end}}\n{{define \"summary\"}}{{.Data.Reason{{end}}"},
			"discord/payment.failed.tmpl:2:"},
		{"unknown payload field", map[string]string{"slack/payment.failed.tmpl": "{{define \"title\"}}x{{end}}\n\n{{define \"summary\"}}{{.Data.Nope}}{{end}}"},
			"slack/payment.failed.tmpl:3:", // and the field's name, checked below
		},
		{"unknown function", map[string]string{"email/default.tmpl": `{{define "title"}}{{shout .Type}}{{end}}`},
			"email/default.tmpl:1:"},
		{"empty title", map[string]string{"discord/node.launched.tmpl": `{{define "title"}} {{end}}{{define "summary"}}x{{end}}`},
			"discord/node.launched.tmpl: the title block rendered empty"},
		{"no title block", map[string]string{"discord/node.launched.tmpl": `{{define "titel"}}x{{end}}{{define "summary"}}x{{end}}`},
			`discord/node.launched.tmpl: no {{define "title"}} block`},
		{"custom type template fails on seed samples", map[string]string{"slack/order.shipped.tmpl": `{{define "title"}}{{.Data.order_id.x}}{{end}}{{define "summary"}}x{{end}}`},
			"slack/order.shipped.tmpl:1:"},
		{"broken html layout", map[string]string{"email/layout.html": "<p>{{.Title}</p>"},
			"email/layout.html:1:"},
		{"html layout field", map[string]string{"email/layout.html": "<p>{{.Titel}}</p>"},
			"email/layout.html:1:"},
		{"unknown channel", map[string]string{"dicsord/payment.failed.tmpl": `{{define "title"}}x{{end}}`},
			`dicsord: unknown channel directory "dicsord"`},
		{"wrong extension", map[string]string{"discord/payment.failed.tpl": `x`},
			"discord/payment.failed.tpl: unexpected file"},
		{"layout outside email", map[string]string{"slack/layout.html": `x`},
			"slack/layout.html: unexpected file"},
		{"file at the top", map[string]string{"payment.failed.tmpl": `x`},
			"payment.failed.tmpl: a file outside a channel directory"},
		{"bad type name", map[string]string{"discord/order shipped.tmpl": `x`},
			`discord/order shipped.tmpl: "order shipped" is not an event type`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := overrideDir(t, tt.files)
			_, err := Load(dir, testProfiles()...)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if want := filepath.Join(dir, filepath.FromSlash(tt.want)); !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v\nwant it to contain %q", err, want)
			}
			if tt.name == "unknown payload field" && !strings.Contains(err.Error(), "Nope") {
				t.Errorf("err = %v, want it to name the field", err)
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing"), testProfiles()...); err == nil {
		t.Error("Load of a missing directory succeeded")
	}
}

func TestEmbeddedTemplatesComplete(t *testing.T) {
	t.Parallel()
	s := Default()
	for _, ch := range Channels() {
		cs := s.channels[ch]
		for _, typ := range sdk.KnownTypes() {
			tt, ok := cs.byType[typ]
			if !ok {
				t.Errorf("no embedded %s/%s.tmpl", ch, typ)
				continue
			}
			if tt.generic || tt.fields == nil {
				t.Errorf("%s: generic %v, fields block %v", tt.name, tt.generic, tt.fields != nil)
			}
		}
		if len(cs.byType) != len(sdk.KnownTypes()) {
			t.Errorf("%s: %d embedded type templates, want %d", ch, len(cs.byType), len(sdk.KnownTypes()))
		}
	}
}
