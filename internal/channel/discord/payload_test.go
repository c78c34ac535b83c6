package discord

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel/discord/discordtest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

func TestClip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"trailing   space here", 10, "trailing…"},
		{"😀😀😀😀😀", 3, "😀😀…"},
		{"éééé", 4, "éééé"},
		{`ab\*cd`, 4, "ab…"},     // the cut would leave `\` escaping the ellipsis
		{`ab\\cd`, 5, `ab\\…`},   // an escaped backslash is whole: keep it
		{`ab\\\*cd`, 6, `ab\\…`}, // three backslashes: drop the lone one
		{"a\x00b\rc\x1bd", 10, "abcd"},
		{"line\nnext\ttab", 20, "line\nnext\ttab"},
		{"bad\xffutf8", 20, "bad\uFFFDutf8"},
		{"x", 1, "x"},
		{"xy", 1, "…"},
	}
	for _, c := range cases {
		if got := clip(c.in, c.limit); got != c.want {
			t.Errorf("clip(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
}

func TestUnescape(t *testing.T) {
	t.Parallel()
	if got := unescape(`\*\*bold\*\* \_x\_ C:\path \\`); got != `**bold** _x_ C:\path \` {
		t.Fatalf("unescape = %q", got)
	}
}

// message returns a rendered message with the given parts and n fields of name fname and
// value fvalue.
func message(title, summary, footer, fname, fvalue string, n int) *render.Message {
	m := &render.Message{Channel: "discord", Type: "order.shipped", Severity: sdk.SeverityWarning,
		Title: title, Summary: summary, Footer: footer, Time: render.SampleTime}
	for i := range n {
		m.Fields = append(m.Fields, render.Field{Name: fname, Value: fmt.Sprintf("%s%d", fvalue, i), Inline: true})
	}
	return m
}

// checkBody asserts the body is one Discord takes, by the fake's rules and by its own count.
func checkBody(t *testing.T, body []byte) {
	t.Helper()
	if !utf8.Valid(body) || !json.Valid(body) {
		t.Fatalf("body is not valid UTF-8 JSON: %q", body)
	}
	if err := discordtest.ValidatePayload(body); err != nil {
		t.Fatalf("Discord would refuse: %v", err)
	}
	var p payload
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Embeds) != 1 || p.Username != Username || p.AllowedMentions.Parse == nil || len(p.AllowedMentions.Parse) != 0 {
		t.Fatalf("payload shape: %+v", p)
	}
	e := p.Embeds[0]
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range e.Fields {
		total += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		for _, s := range []string{f.Name, f.Value} {
			if strings.TrimSpace(s) == "" {
				t.Fatalf("empty field part: %+v", f)
			}
		}
	}
	if e.Footer != nil {
		total += utf8.RuneCountInString(e.Footer.Text)
	}
	if total > maxEmbedRunes || len(e.Fields) > maxFields || strings.TrimSpace(e.Title) == "" {
		t.Fatalf("total %d, fields %d, title %q", total, len(e.Fields), e.Title)
	}
	for _, s := range []string{e.Title, e.Description} {
		if strings.HasSuffix(s, ellipsis) && (len(strings.TrimSuffix(s, ellipsis))-len(strings.TrimRight(strings.TrimSuffix(s, ellipsis), `\`)))%2 == 1 {
			t.Fatalf("a cut leaves a lone backslash: %q", s)
		}
	}
}

// TestPayloadLimits feeds messages far past every limit, in scripts where bytes, runes and
// UTF-16 units differ, and checks the marshalled JSON.
func TestPayloadLimits(t *testing.T) {
	t.Parallel()
	huge := func(unit string, runes int) string { return strings.Repeat(unit, runes/utf8.RuneCountInString(unit)+1) }
	units := map[string]string{
		"ascii":      "abcdefghij",
		"latin":      "é",
		"cjk":        "漢字",
		"emoji":      "😀",
		"zwj emoji":  "👩‍👩‍👧‍👦",
		"combining":  "e\u0301\u0302\u0303",
		"flags":      "🇫🇷",
		"escapes":    `\*\_\~\|`,
		"backslash":  `\`,
		"controls":   "\x00\x01\r\x7f\u0085",
		"whitespace": " \n\t",
		"mentions":   "@everyone <@&123> <@456> ",
	}
	for name, unit := range units {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, m := range []*render.Message{
				message(huge(unit, 300), huge(unit, 5000), huge(unit, 2100), huge(unit, 300), huge(unit, 1100), 30),
				message(huge(unit, 300), huge(unit, 5000), huge(unit, 2100), unit, unit, 25),
				message(unit, unit, unit, huge(unit, 260), huge(unit, 1030), 25),
				message("", "", "", "", "", 26),
				message(unit, huge(unit, 4096), "", "", "", 0),
				message(huge(unit, 256), huge(unit, 4096), huge(unit, 2048), "n", huge(unit, 1024), 25),
			} {
				body, _, err := buildPayload(m)
				if err != nil {
					t.Fatal(err)
				}
				checkBody(t, body)
			}
		})
	}
}

// TestPayloadLimitsRandom builds random messages from the same units, many times.
func TestPayloadLimitsRandom(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", "\n", `\`, "*", "é", "漢", "😀", "\u0301", "\u200d", "\x00", "\xff", "…", "—", "@"}
	gen := func(max int) string {
		n := rng.IntN(max + 1)
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 60 {
		m := &render.Message{Type: "x.y", Title: gen(400), Summary: gen(7000), Footer: gen(2500), Severity: sdk.SeverityCritical}
		for range rng.IntN(40) {
			m.Fields = append(m.Fields, render.Field{Name: gen(300), Value: gen(1500), Inline: rng.IntN(2) == 0})
		}
		body, _, err := buildPayload(m)
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, body)
	}
}

func TestShrinksLongestFirst(t *testing.T) {
	t.Parallel()
	// 4096 + 3*(4+1001) + 5 + 6 > 6000: only the description, the longest, is cut, to what
	// is left.
	_, p, err := buildPayload(message("Title", strings.Repeat("d", 4096), "footer", "name", strings.Repeat("v", 1000), 3))
	if err != nil {
		t.Fatal(err)
	}
	e := p.Embeds[0]
	if e.Title != "Title" || e.Footer.Text != "footer" || e.Fields[0].Name != "name" || e.Fields[2].Value != strings.Repeat("v", 1000)+"2" {
		t.Errorf("short parts were cut: %q %q %q", e.Title, e.Footer.Text, e.Fields[0].Name)
	}
	if got, want := utf8.RuneCountInString(e.Description), 6000-3*(4+1001)-5-6; got != want || !strings.HasSuffix(e.Description, ellipsis) {
		t.Errorf("description: %d runes, want %d ending in an ellipsis", got, want)
	}

	// With six long values, the description and the values are cut to one common length.
	_, p, err = buildPayload(message("Title", strings.Repeat("d", 4096), "footer", "name", strings.Repeat("v", 1000), 6))
	if err != nil {
		t.Fatal(err)
	}
	e = p.Embeds[0]
	d := utf8.RuneCountInString(e.Description)
	for i, f := range e.Fields {
		if v := utf8.RuneCountInString(f.Value); v < d-1 || v > d+1 || !strings.HasSuffix(f.Value, ellipsis) {
			t.Errorf("field %d value %d runes, description %d: want one common length", i, v, d)
		}
	}
}

// TestPayloadJustOver checks the totals just past 6000, where every part is within its own
// limit and only the sum is not.
func TestPayloadJustOver(t *testing.T) {
	t.Parallel()
	for over := 1; over <= 120; over += 7 {
		// 1 + 4096 + footer = 6000 + over
		m := message("T", strings.Repeat("d", maxDescriptionRunes), strings.Repeat("😀", 6000+over-1-maxDescriptionRunes), "", "", 0)
		body, p, err := buildPayload(m)
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, body)
		e := p.Embeds[0]
		if got := 1 + utf8.RuneCountInString(e.Description) + utf8.RuneCountInString(e.Footer.Text); got != maxEmbedRunes {
			t.Errorf("over by %d: total %d, want exactly %d", over, got, maxEmbedRunes)
		}
	}
}

func TestTooManyFields(t *testing.T) {
	t.Parallel()
	_, p, err := buildPayload(message("t", "s", "f", "n", "v", 40))
	if err != nil {
		t.Fatal(err)
	}
	fs := p.Embeds[0].Fields
	if len(fs) != maxFields || fs[23].Value != "v23" || fs[24].Value != "16 more fields not shown" {
		t.Fatalf("fields: %d, last two %+v %+v", len(fs), fs[23], fs[24])
	}
}

func TestTimestamp(t *testing.T) {
	t.Parallel()
	cases := map[time.Time]string{
		{}: "",
		time.Date(2026, 11, 28, 10, 30, 0, 0, time.FixedZone("CET", 3600)): "2026-11-28T09:30:00Z",
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC):                       "",
	}
	for in, want := range cases {
		if got := timestamp(in); got != want {
			t.Errorf("timestamp(%v) = %q, want %q", in, got, want)
		}
	}
}

// FuzzPayload: no rendered message, however hostile, yields a body Discord refuses.
func FuzzPayload(f *testing.F) {
	f.Add("Payment failed", "Card **declined**", "Herald · acme", "amount", "42", 3, "warning")
	f.Add("", "", "", "", "", 0, "")
	f.Add(strings.Repeat("😀", 300), strings.Repeat(`\`, 5000), strings.Repeat("e\u0301", 1100), " ", "\x00", 30, "critical")
	f.Add("\xff\xfe", "@everyone", "\r\n", strings.Repeat("n", 257), strings.Repeat("v", 1025), 26, "bogus")
	f.Fuzz(func(t *testing.T, title, summary, footer, name, value string, n int, sev string) {
		n = ((n % 40) + 40) % 40
		if len(value) > 2048 {
			value = value[:2048] // repeated below: keep each exec cheap
		}
		m := &render.Message{Type: "fuzz.event", Title: title, Summary: summary, Footer: footer, Severity: sdk.Severity(sev), Time: render.SampleTime}
		for i := range n {
			// Vary the fields so that the total budget sees parts of different lengths.
			v := value
			if i%2 == 1 {
				v = strings.Repeat(value, i)
			}
			m.Fields = append(m.Fields, render.Field{Name: name, Value: v, Inline: i%3 == 0})
		}
		body, _, err := buildPayload(m)
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, body)
	})
}

// BenchmarkPayload builds the payload of one rendered payment.failed event.
func BenchmarkPayload(b *testing.B) {
	m, err := defaultTemplates().Render(Name, render.Samples()[2])
	if err != nil {
		b.Fatal(err)
	}
	big := message("t", strings.Repeat("d", 1<<20), "f", "n", strings.Repeat("v", 1<<16), 25)
	for _, bc := range []struct {
		name string
		m    *render.Message
	}{{"payment.failed", m}, {"oversize", big}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := buildPayload(bc.m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
