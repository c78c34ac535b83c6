package teams

import (
	"flag"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/teams/teamstest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkBody fails the test unless body is one teamstest accepts, within the size limit, and,
// when markdown is set, without a markdown warning.
func checkBody(t testing.TB, body []byte, markdown bool) *teamstest.Payload {
	t.Helper()
	if len(body) > maxMessageBytes {
		t.Fatalf("body is %d bytes, more than %d", len(body), maxMessageBytes)
	}
	p, err := teamstest.ValidatePayload(body)
	if err != nil {
		t.Fatalf("Teams would refuse the payload: %v\n%.2000s", err, body)
	}
	if markdown && len(p.Warnings) > 0 {
		t.Fatalf("markdown warnings: %v\n%.2000s", p.Warnings, body)
	}
	return p
}

// TestGolden compares the exact body posted for every sample event with its golden file.
// Run go test ./internal/channel/teams -update to rewrite them after a template change.
func TestGolden(t *testing.T) {
	t.Parallel()
	channeltest.GoldenPreviews(t, New(nil, defaultTemplates()), channel.Destination{},
		func(t testing.TB, body []byte) { checkBody(t, body, true) }, *update)
}

// TestHostileEventsProperty renders many random events with hostile data through the
// templates and checks every body with teamstest's validator: accepted, within 28 KB, with no
// markdown warning, and with no link or date function made of event data.
func TestHostileEventsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	runs := channeltest.Runs(100, 20)
	ch := New(nil, defaultTemplates())
	for range runs {
		ev := channeltest.HostileEvent(t, r)
		body, _, err := ch.message(channel.Notification{Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		p := checkBody(t, body, true)
		all := p.AllText()
		for _, bad := range []string{"](https://evil", "<https://evil", "<at>", "**strong", "_x_", "`code"} {
			if i := unescapedIndex(all, bad); i >= 0 {
				t.Fatalf("event data formed %q at byte %d in the card:\n%.3000s", bad, i, all)
			}
		}
		for _, line := range strings.Split(all, "\n") {
			for _, bad := range []string{"# heading", "- item", "1. one", "+ plus", "> quote", "====="} {
				if strings.HasPrefix(strings.TrimLeft(line, " \t"), bad) {
					t.Fatalf("event data started a line with %q:\n%.3000s", bad, all)
				}
			}
		}
	}
}

// unescapedIndex returns the index of the first occurrence of sub in s that no backslash
// escapes, or -1.
func unescapedIndex(s, sub string) int {
	for off := 0; ; {
		i := strings.Index(s[off:], sub)
		if i < 0 {
			return -1
		}
		i += off
		if trailingBackslashes(s[:i])%2 == 0 {
			return i
		}
		off = i + 1
	}
}

// TestPayloadLimitsProperty lays out many random huge messages, markup and all, and checks
// that every body is one Teams accepts within 28 KB.
func TestPayloadLimitsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	runs := channeltest.Runs(120, 24)
	for i := range runs {
		scale := []int{3, 40, 400, 3000}[i%4]
		body, err := fit(channeltest.BigMessage(r, Name, scale))
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, body, false)
	}
}

// TestPayloadEdgeCases covers the shapes the random properties may miss.
func TestPayloadEdgeCases(t *testing.T) {
	t.Parallel()
	many := func(n, size int) []render.Field {
		fs := make([]render.Field, n)
		for i := range fs {
			fs[i] = render.Field{Name: "n", Value: strings.Repeat("v", size)}
		}
		return fs
	}
	cases := map[string]*render.Message{
		"empty":          {},
		"blank":          {Title: " \n\t", Summary: "  ", Footer: "\n", Text: " ", Fields: []render.Field{{}, {Name: " ", Value: "\n"}}},
		"emoji title":    {Title: strings.Repeat("🔥", 10_000), Severity: sdk.SeverityCritical},
		"escapes":        {Title: strings.Repeat(`\*`, 10_000), Summary: strings.Repeat(`\\`, 20_000)},
		"quotes":         {Summary: strings.Repeat(`"`, 30_000)},
		"bold summary":   {Summary: strings.Repeat("**bold** ", 5000)},
		"link summary":   {Summary: "[label](https://example.com/" + strings.Repeat("x", 20_000) + ")"},
		"500 fields":     {Title: "t", Fields: many(500, 10)},
		"50 huge fields": {Title: "t", Fields: many(50, 5000)},
		"4-byte fields":  {Title: "t", Fields: []render.Field{{Name: strings.Repeat("𝕏", 5000), Value: strings.Repeat("𝕏", 50_000)}}},
		"invalid utf8":   {Title: "\xff\xfe", Summary: "\xc3", Text: "\xed\xa0\x80"},
		"controls":       {Title: "\x00\x01", Summary: "\x1b[31m", Footer: "\u0085"},
		"zero time":      {Title: "t", Time: time.Time{}},
		"year 10000":     {Title: "t", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body, err := fit(m)
			if err != nil {
				t.Fatal(err)
			}
			p := checkBody(t, body, true)
			if p.Title() == "" {
				t.Fatal("card has no title")
			}
		})
	}
	t.Run("fields are folded beyond maxFacts", func(t *testing.T) {
		body, _ := fit(&render.Message{Title: "t", Fields: many(500, 10)})
		facts := checkBody(t, body, true).Facts()
		if len(facts) != maxFacts || facts[len(facts)-1].Value != "…and 451 more fields" {
			t.Fatalf("%d facts, last %+v; want %d with the rest folded", len(facts), facts[len(facts)-1], maxFacts)
		}
	})
	t.Run("a big summary is cut, not dropped", func(t *testing.T) {
		body, _ := fit(&render.Message{Title: "t", Summary: strings.Repeat("word ", 20_000)})
		p := checkBody(t, body, true)
		if !strings.Contains(p.AllText(), "word word") || !strings.Contains(p.AllText(), ellipsis) {
			t.Fatalf("summary lost: %.300s", p.AllText())
		}
	})
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"fits", "hello", 5, "hello"},
		{"runes", "héllo wörld", 6, "héllo…"},
		{"emoji are one rune", "🔥🔥🔥🔥", 3, "🔥🔥…"},
		{"not between backslash and its character", `abcd\*efgh`, 6, "abcd…"},
		{"escaped backslash kept whole", `ab\\cdefgh`, 5, `ab\\…`},
		{"open bold", "one **two three four**", 14, "one…"},
		{"closed bold kept", "**one** two three four", 14, "**one** two t…"},
		{"open italic", "a _bc def_", 8, "a…"},
		{"open code", "x `code span here`", 12, "x…"},
		{"markers in code are literal", "`a*b` ccccc", 9, "`a*b` cc…"},
		{"escaped markers are literal", `\*\* two three`, 9, `\*\* two…`},
		{"not inside a link", "see [site](https://example.com) now", 20, "see…"},
		{"after a whole link", "[x](https://e.com) and more text", 22, "[x](https://e.com) an…"},
		{"no trailing space or ZWJ", "ab \u200dcdefgh", 5, "ab…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := truncate(c.in, c.max)
			if got != c.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
			}
			if utf8.RuneCountInString(got) > c.max {
				t.Errorf("result has %d runes, more than %d", utf8.RuneCountInString(got), c.max)
			}
		})
	}
}

func TestEscapeMarkdown(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"plain text, 42 and all":         "plain text, 42 and all",
		"card_declined":                  `card\_declined`,
		"*bold* **strong** ~~s~~ `c`":    `\*bold\* \*\*strong\*\* \~\~s\~\~ \` + "`c\\`",
		"[x](https://evil.example)":      `\[x\](https://evil.example)`,
		"<https://evil.example> <at>":    `\<https://evil.example\> \<at\>`,
		"# h\n- item\n+ p\n1. one\n2) b": "\\# h\n\\- item\n\\+ p\n1\\. one\n2\\) b",
		"  - indented\n===":              "  \\- indented\n\\===",
		"node-7f3a 3.14 a-b":             "node-7f3a 3.14 a-b",
		"{{DATE(2026-11-28T09:30:00Z)}}": `\{\{DATE(2026-11-28T09:30:00Z)}}`,
		"AT&T &amp; &#39; &x":            `AT&T \&amp; \&#39; &x`,
		`C:\path | table`:                `C:\\path \| table`,
	}
	for in, want := range cases {
		got := EscapeMarkdown(in)
		if got != want {
			t.Errorf("EscapeMarkdown(%q) = %q, want %q", in, got, want)
		}
		if back := unescapeMarkdown(got); back != in {
			t.Errorf("unescapeMarkdown(EscapeMarkdown(%q)) = %q", in, back)
		}
	}
}

// FuzzEscapeRoundTrip checks that unescaping undoes escaping, as the template functions that
// change text (upper, truncate) rely on, and that escaped text holds no markup.
func FuzzEscapeRoundTrip(f *testing.F) {
	for _, s := range channeltest.Hostile {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := EscapeMarkdown(s)
		if back := unescapeMarkdown(e); back != s {
			t.Fatalf("round trip of %q gave %q (escaped %q)", s, back, e)
		}
		if c := markupCut(e); c != len(e) {
			t.Fatalf("escaped %q holds open markup at byte %d", e, c)
		}
	})
}

// FuzzCard checks that no event data whatsoever yields a card Teams refuses, one over 28 KB,
// or one with broken markdown.
func FuzzCard(f *testing.F) {
	f.Add("card_declined", "reason", "**x** [y](z) {{DATE(", uint8(3), 2)
	f.Add("\xff<b>", "", "\\", uint8(200), 9000)
	ch := New(nil, defaultTemplates())
	f.Fuzz(func(t *testing.T, reason, key, value string, nfields uint8, grow int) {
		ev := channeltest.FuzzEvent(t, reason, key, value, nfields, grow)
		body, _, err := ch.message(channel.Notification{Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, body, true)
	})
}

// BenchmarkCard measures rendering and laying out one notification, as Send and Preview do
// before posting.
func BenchmarkCard(b *testing.B) {
	ch := New(nil, defaultTemplates())
	ev := render.Samples()[3] // node.launched: the most fields
	n := channel.Notification{DeliveryID: ev.ID + ":bench", Attempt: 1, Event: ev}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ch.message(n); err != nil {
			b.Fatal(err)
		}
	}
}
