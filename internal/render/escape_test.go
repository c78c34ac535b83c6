package render

import (
	"reflect"
	"strings"
	"testing"

	"github.com/heraldhq/herald/sdk"
)

func TestEscapeSlack(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":                  "plain",
		"a & b":                  "a &amp; b",
		"<!channel> <@U1> <x|y>": "&lt;!channel&gt; &lt;@U1&gt; &lt;x|y&gt;",
		"&amp;":                  "&amp;amp;",
	} {
		if got := EscapeSlack(in); got != want {
			t.Errorf("EscapeSlack(%q) = %q, want %q", in, got, want)
		}
		if got := unescapeSlack(EscapeSlack(in)); got != in {
			t.Errorf("unescapeSlack(EscapeSlack(%q)) = %q", in, got)
		}
	}
}

func TestEscapeDiscord(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain node-7f3a":       "plain node-7f3a",
		"*b* _i_ ~s~ `c` |s|":   `\*b\* \_i\_ \~s\~ \` + "`c\\`" + ` \|s\|`,
		`a\b`:                   `a\\b`,
		"> quote\n# head":       "\\> quote\n\\# head",
		"[x](http://e.vil)":     `\[x\]\(http://e.vil\)`,
		"@everyone and @here":   "@" + zwsp + "everyone and @" + zwsp + "here",
		"<@123> <@!4> <@&5>":    "<@" + zwsp + "123\\> <@" + zwsp + "!4\\> <@" + zwsp + "&5\\>",
		"ops@acme.example":      "ops@acme.example",
		"@everyone\u200b":       "@" + zwsp + "everyone\u200b",
		"trailing backslash \\": `trailing backslash \\`,
	} {
		if got := EscapeDiscord(in); got != want {
			t.Errorf("EscapeDiscord(%q) = %q, want %q", in, got, want)
		}
		if got := unescapeDiscord(EscapeDiscord(in)); got != in {
			t.Errorf("unescapeDiscord(EscapeDiscord(%q)) = %q", in, got)
		}
	}
}

func FuzzEscapeRoundTrip(f *testing.F) {
	for _, s := range []string{"", "a_b", `\*`, "@everyone", "<@1>", "&lt;", "@\u200beveryone", "x\\", "@\u200b", "<@\u200b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := unescapeSlack(EscapeSlack(s)); got != s {
			t.Errorf("slack round trip of %q = %q", s, got)
		}
		if strings.ContainsAny(EscapeSlack(s), "<>") {
			t.Errorf("slack escaping of %q leaves < or >", s)
		}
		d := EscapeDiscord(s)
		if strings.Contains(d, "@everyone") || strings.Contains(d, "@here") || strings.Count(d, "<@") != strings.Count(d, "<@"+zwsp) {
			t.Errorf("discord escaping of %q leaves a live mention: %q", s, d)
		}
		if EscapeDiscord(unescapeDiscord(d)) != d {
			t.Errorf("discord escaping of %q is not stable", s)
		}
	})
}

func TestEscapeData(t *testing.T) {
	t.Parallel()
	in := sdk.NodeHealthDegraded{NodeID: "a_b", HealthScore: 0.5, Issues: []string{"<x>", "y"}}
	got := escapeData(in, EscapeSlack)
	want := sdk.NodeHealthDegraded{NodeID: "a_b", HealthScore: 0.5, Issues: []string{"&lt;x&gt;", "y"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("escapeData = %#v, want %#v", got, want)
	}
	if in.Issues[0] != "<x>" {
		t.Error("escapeData changed its input")
	}
	m := escapeData(map[string]any{"k<": []any{"<", map[string]any{"n": "&"}}}, EscapeSlack)
	wantMap := map[string]any{"k<": []any{"&lt;", map[string]any{"n": "&amp;"}}}
	if !reflect.DeepEqual(m, wantMap) {
		t.Errorf("escapeData = %#v, want %#v", m, wantMap)
	}
}
