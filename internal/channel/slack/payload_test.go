package slack

import (
	"flag"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/slack/slacktest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkPayload fails the test unless p encodes to a body that slacktest accepts without a
// markup warning, with no code block left open in any text.
func checkPayload(t testing.TB, p payload) []byte {
	t.Helper()
	body, err := encode(p)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := slacktest.ValidatePayload(body)
	if err != nil {
		t.Fatalf("Slack would refuse the payload: %v\n%.2000s", err, body)
	}
	if len(decoded.Warnings) > 0 {
		t.Fatalf("markup warnings: %v\n%.2000s", decoded.Warnings, body)
	}
	for _, b := range p.Blocks {
		texts := append(append([]*textObj{b.Text}, b.Fields...), b.Elements...)
		for _, tx := range texts {
			if tx != nil && tx.Type == "mrkdwn" && strings.Count(tx.Text, "```")%2 != 0 && strings.HasSuffix(tx.Text, ellipsis) {
				t.Fatalf("truncated text leaves a code block open: %q", tx.Text)
			}
		}
	}
	return body
}

// TestGolden compares the exact body posted for every sample event with its golden file.
// Run go test ./internal/channel/slack -update to rewrite them after a template change.
func TestGolden(t *testing.T) {
	t.Parallel()
	channeltest.GoldenPreviews(t, New(nil, defaultTemplates()), channel.Destination{}, nil, *update)
}

// TestPayloadLimitsProperty builds payloads from many random huge messages and checks every
// marshalled body against Slack's limits with slacktest's validator.
func TestPayloadLimitsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	runs := channeltest.Runs(200, 30)
	for i := range runs {
		scale := []int{3, 40, 400, 1500}[i%4]
		checkPayload(t, buildPayload(channeltest.BigMessage(r, Name, scale)))
	}
}

// TestPayloadEdgeCases covers the shapes the random property may miss.
func TestPayloadEdgeCases(t *testing.T) {
	t.Parallel()
	many := func(n int) []render.Field {
		fs := make([]render.Field, n)
		for i := range fs {
			fs[i] = render.Field{Name: "n", Value: strings.Repeat("v", 3000)}
		}
		return fs
	}
	cases := map[string]*render.Message{
		"empty":             {},
		"blank":             {Title: " \n\t", Summary: "  ", Footer: "\n", Text: " ", Fields: []render.Field{{}, {Name: " ", Value: "\n"}}},
		"emoji title":       {Title: strings.Repeat("🔥", 10_000), Severity: sdk.SeverityCritical},
		"entity title":      {Title: strings.Repeat("&amp;", 10_000)},
		"raw title":         {Title: strings.Repeat("<&>", 10_000)},
		"long link summary": {Summary: "<https://example.com/" + strings.Repeat("x", 5000) + "|label>"},
		"links summary":     {Summary: strings.Repeat("<https://e.com/a_b|x_y> ", 1000)},
		"dates summary":     {Summary: strings.Repeat("<!date^1^{date}|d> ", 1000)},
		"code block":        {Summary: "```\n" + strings.Repeat("code line * _ ~\n", 1000) + "```"},
		"inline code":       {Summary: strings.Repeat("`x` *y* _z_ ", 1000)},
		"markers":           {Summary: strings.Repeat("*_~", 2000), Footer: strings.Repeat("_", 5000)},
		"500 fields":        {Title: "t", Fields: many(500)},
		"11 fields":         {Title: "t", Fields: many(11)},
		"huge fallback":     {Text: strings.Repeat("日本語 ", 50_000)},
		"emoji fallback":    {Text: strings.Repeat("👩‍👩‍👧", 50_000)},
		"invalid utf8":      {Title: "\xff\xfe", Summary: "\xc3", Text: "\xed\xa0\x80"},
		"controls":          {Title: "\x00\x01", Summary: "\x1b[31m", Footer: "\u0085"},
		"zero time":         {Title: "t", Time: time.Time{}},
		"pre-1970 time":     {Title: "t", Time: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := buildPayload(m)
			checkPayload(t, p)
			if len(p.Blocks) == 0 || p.Blocks[0].Type != "header" {
				t.Fatalf("payload has no header block: %+v", p.Blocks)
			}
		})
	}
	t.Run("fields are folded beyond maxFields", func(t *testing.T) {
		p := buildPayload(&render.Message{Title: "t", Fields: many(500)})
		n := 0
		for _, b := range p.Blocks {
			n += len(b.Fields)
		}
		last := p.Blocks[len(p.Blocks)-1]
		if n != maxFields || !strings.Contains(last.Fields[len(last.Fields)-1].Text, "451 more fields") {
			t.Fatalf("%d fields, last %q; want %d with the rest folded", n, last.Fields[len(last.Fields)-1].Text, maxFields)
		}
	})
	t.Run("11 fields take two sections", func(t *testing.T) {
		p := buildPayload(&render.Message{Title: "t", Summary: "s", Fields: many(11)})
		if len(p.Blocks) != 3 || len(p.Blocks[1].Fields) != 10 || len(p.Blocks[2].Fields) != 1 {
			t.Fatalf("blocks = %+v", p.Blocks)
		}
	})
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		in     string
		max    int
		mrkdwn bool
		want   string
	}{
		{"fits", "hello", 5, true, "hello"},
		{"runes", "héllo wörld", 6, false, "héllo…"},
		{"emoji count twice", "🔥🔥🔥🔥", 6, false, "🔥🔥…"},
		{"not inside &amp;", "abcd&amp;efgh", 7, false, "abcd…"},
		{"after whole entity", "ab&lt;cdefgh", 8, false, "ab&lt;c…"},
		{"not inside a link", "see <https://example.com|site> now", 20, true, "see…"},
		{"after a whole link", "<https://e.com|x> and more text here", 19, true, "<https://e.com|x>…"},
		{"not inside a date", "at <!date^1^{date}|d> ok", 12, true, "at…"},
		{"open bold", "one *two three four*", 14, true, "one…"},
		{"closed bold kept", "*one* two three four", 14, true, "*one* two thr…"},
		{"open inline code", "x `code span here`", 12, true, "x…"},
		{"markers in links are literal", "<https://e.com/a_b|x> *yy* zzzzz", 28, true, "<https://e.com/a_b|x> *yy*…"},
		{"code block closed", "```\nline one\nline two\n```", 18, true, "```\nline one…\n```"},
		{"earlier lines untouched", "a *b\nccccccccc", 8, true, "a *b\ncc…"},
		{"no trailing space or ZWJ", "ab \u200dcdefgh", 5, false, "ab…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := truncate(c.in, c.max, c.mrkdwn)
			if got != c.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
			}
			if chars(got) > c.max {
				t.Errorf("result has %d characters, more than %d", chars(got), c.max)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	mrk := map[string]string{
		"a & b":                     "a &amp; b",
		"&amp; &lt; &gt; &#39;":     "&amp; &lt; &gt; &amp;#39;",
		"<https://e.com?a=1&b=2>":   "<https://e.com?a=1&amp;b=2>",
		"<@U123|bob> <#C1> <!here>": "<@U123|bob> <#C1> <!here>",
		"<b>bold</b>":               "&lt;b&gt;bold&lt;/b&gt;",
		"1 < 2 > 0":                 "1 &lt; 2 &gt; 0",
		"> quote\nx > y":            "> quote\nx &gt; y",
		"<!date^1^{date}>":          "&lt;!date^1^{date}&gt;",
		"<javascript :x>":           "&lt;javascript :x&gt;",
		"<|label> <|>":              "&lt;|label&gt; &lt;|&gt;",
	}
	for in, want := range mrk {
		if got := escapeMrkdwn(in); got != want {
			t.Errorf("escapeMrkdwn(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escapePlain("a <b> & &amp;"); got != "a &lt;b&gt; &amp; &amp;" {
		t.Errorf("escapePlain = %q", got)
	}
	if got := clean("a\x00b\r\nc\xff"); got != "ab\nc\uFFFD" || !utf8.ValidString(got) {
		t.Errorf("clean = %q", got)
	}
	if got := clean("c1 \u0090 alone"); got != "c1  alone" {
		t.Errorf("clean kept a C1 control: %q", got)
	}
}

// FuzzPayload checks that no message whatsoever yields a body Slack refuses or one with
// broken markup.
func FuzzPayload(f *testing.F) {
	for _, ev := range render.Samples() {
		m, err := defaultTemplates().Render("slack", ev)
		if err != nil {
			f.Fatal(err)
		}
		var name, value string
		if len(m.Fields) > 0 {
			name, value = m.Fields[0].Name, m.Fields[0].Value
		}
		f.Add(m.Title, m.Summary, name, value, m.Footer, m.Text, uint8(len(m.Fields)), int64(1700000000))
	}
	f.Add("&amp;<>", "<https://x|y> *a _b ```c", "*", "`", "<!date^1^x|y>", "\xff", uint8(200), int64(-1))
	f.Fuzz(func(t *testing.T, title, summary, name, value, footer, text string, nfields uint8, unix int64) {
		// Grow the inputs so that the limits come into play.
		grow := channeltest.Grow
		m := &render.Message{
			Title: grow(title, 200), Summary: grow(summary, 3500), Footer: footer, Text: text,
			Severity: sdk.SeverityCritical, Time: time.Unix(unix%(1<<40), 0),
		}
		for i := range int(nfields) {
			if i%2 == 0 {
				m.Fields = append(m.Fields, render.Field{Name: name, Value: grow(value, 2100)})
			} else {
				m.Fields = append(m.Fields, render.Field{Name: name, Value: value})
			}
		}
		checkPayload(t, buildPayload(m))
	})
}

// BenchmarkPayload measures rendering and laying out one notification, as Send and Preview
// do before posting.
func BenchmarkPayload(b *testing.B) {
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
