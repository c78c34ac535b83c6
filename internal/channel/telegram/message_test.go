package telegram

import (
	"flag"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/telegram/telegramtest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkBody fails the test unless body is a sendMessage request the fake Bot API accepts, and
// returns it decoded.
func checkBody(t testing.TB, body []byte) *telegramtest.Payload {
	t.Helper()
	p, err := telegramtest.ValidatePayload(body)
	if err != nil {
		t.Fatalf("Telegram would refuse the payload: %v\n%.3000s", err, body)
	}
	if p.ParseMode != ParseMode || !p.PreviewDisabled {
		t.Fatalf("parse mode %q, previews disabled %v", p.ParseMode, p.PreviewDisabled)
	}
	return p
}

// checkText fails the test unless text, in the HTML style, parses and fits max.
func checkText(t testing.TB, text string, max int) *telegramtest.Payload {
	t.Helper()
	plain, ents, err := telegramtest.ParseHTML(text)
	if err != nil {
		t.Fatalf("Telegram would not parse %.3000q: %v", text, err)
	}
	if n := telegramtest.Length(plain); n > max {
		t.Fatalf("text is %d characters after parsing, more than %d", n, max)
	}
	if n := visibleLen(text); n != telegramtest.Length(plain) {
		t.Fatalf("visibleLen = %d, the fake counts %d, for %.300q", n, telegramtest.Length(plain), text)
	}
	return &telegramtest.Payload{Plain: plain, Entities: ents}
}

// TestGolden compares the exact body posted for every sample event with its golden file.
// Run go test ./internal/channel/telegram -update to rewrite them after a template change.
func TestGolden(t *testing.T) {
	t.Parallel()
	d := Destination("golden", "", "123456789:AAGoldenGoldenGoldenGoldenGoldenGo", "-1001234567890")
	channeltest.GoldenPreviews(t, New(nil, defaultTemplates()), d, func(t testing.TB, body []byte) { checkBody(t, body) }, *update)
}

// TestHostileEventsProperty renders many random events with hostile data through the
// templates and checks every body with the fake's parser: accepted, within 4096 characters,
// with no link and no entity made of event data.
func TestHostileEventsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	runs := channeltest.Runs(100, 20)
	ch := New(nil, defaultTemplates())
	for range runs {
		ev := channeltest.HostileEvent(t, r)
		body, _, err := ch.message(channel.Notification{Event: ev}, "-1001234567890")
		if err != nil {
			t.Fatal(err)
		}
		p := checkBody(t, body)
		for _, e := range p.Entities {
			switch e.Type {
			case "bold", "italic", "code":
			default:
				t.Fatalf("event data formed a %s entity: %+v\n%.3000s", e.Type, e, p.Text)
			}
		}
	}
}

// TestEventDataStaysText checks that markup in event data reaches the reader as the text it
// is: the entities are the template's alone.
func TestEventDataStaysText(t *testing.T) {
	t.Parallel()
	reason := `<b>bold</b> <a href="https://evil.example">click</a> &amp; <tg-spoiler>x</tg-spoiler> *y* @everyone`
	ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: reason, Amount: 5}, sdk.WithTime(render.SampleTime))
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := New(nil, nil).message(channel.Notification{Event: ev}, "1")
	if err != nil {
		t.Fatal(err)
	}
	p := checkBody(t, body)
	if !strings.Contains(p.Plain, "Reason: "+reason) {
		t.Errorf("the reason is not shown as written:\n%s", p.Plain)
	}
	want, _, _ := New(nil, nil).message(channel.Notification{Event: render.Samples()[2]}, "1")
	sample := checkBody(t, want)
	if len(p.Entities) != len(sample.Entities) {
		t.Errorf("entities %+v, want as many as the sample's %+v", p.Entities, sample.Entities)
	}
}

// TestPayloadLimitsProperty lays out many random huge messages, whatever markup they hold,
// and checks that every text is one Telegram parses, within 4096 characters.
func TestPayloadLimitsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	runs := channeltest.Runs(150, 30)
	for i := range runs {
		scale := []int{3, 40, 400, 3000}[i%4]
		checkText(t, buildText(channeltest.BigMessage(r, Name, scale)), maxTextLen)
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
		"empty":           {},
		"blank":           {Title: " \n\t", Summary: "  ", Footer: "\n", Fields: []render.Field{{}, {Name: " ", Value: "\n"}}},
		"emoji title":     {Title: strings.Repeat("🔥", 10_000), Severity: sdk.SeverityCritical},
		"entity summary":  {Summary: strings.Repeat("&amp;&#128293;", 10_000)},
		"tag soup":        {Summary: strings.Repeat("<b><i><u>x", 3000)},
		"open link":       {Summary: `<a href="https://e.example">` + strings.Repeat("x", 10_000)},
		"pre":             {Summary: "<pre><code class=\"language-go\">" + strings.Repeat("x := 1\n", 2000) + "</code></pre>"},
		"tags in title":   {Title: "<b>a</b><code>c</code><pre>p</pre><a href=\"https://e.example\">l</a></b>"},
		"500 fields":      {Title: "t", Fields: many(500, 10)},
		"40 huge fields":  {Title: "t", Fields: many(40, 5000)},
		"surrogate pairs": {Title: "t", Summary: strings.Repeat("𝕏", 5000)},
		"invalid utf8":    {Title: "\xff\xfe", Summary: "\xc3", Footer: "\xed\xa0\x80"},
		"controls":        {Title: "\x00\x01", Summary: "\x1b[31m", Footer: "\u0085"},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := checkText(t, buildText(m), maxTextLen)
			if strings.TrimSpace(p.Plain) == "" {
				t.Fatal("message is empty")
			}
		})
	}
	t.Run("fields are folded beyond maxFields", func(t *testing.T) {
		p := checkText(t, buildText(&render.Message{Title: "t", Fields: many(500, 10)}), maxTextLen)
		if n := strings.Count(p.Plain, "n: v"); n != maxFields-1 || !strings.Contains(p.Plain, "…and 461 more fields") {
			t.Fatalf("%d fields shown:\n%s", n, p.Plain)
		}
	})
	t.Run("the footer survives a long message", func(t *testing.T) {
		m := &render.Message{Title: "t", Summary: strings.Repeat("word ", 5000), Fields: many(40, 5000), Footer: "src · acme · id", Time: render.SampleTime}
		p := checkText(t, buildText(m), maxTextLen)
		if !strings.HasSuffix(p.Plain, "2026-11-28 09:30 UTC · src · acme · id") {
			t.Fatalf("footer lost: …%s", p.Plain[len(p.Plain)-200:])
		}
	})
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"plain":                        "plain",
		"<b>b</b> <i>i":                "<b>b</b> <i>i</i>",
		"x</b> 1 < 2 > 0":              "x&lt;/b&gt; 1 &lt; 2 &gt; 0",
		"AT&T &amp; &#39; &nbsp; &#0;": "AT&amp;T &amp; &#39; &amp;nbsp; &amp;#0;",
		"<h1>x</h1> <script>":          "&lt;h1&gt;x&lt;/h1&gt; &lt;script&gt;",
		"<b><code>c</code></b>":        "<b>&lt;code&gt;c&lt;/code&gt;</b>",
		"<pre><code class=\"language-go\">x</code></pre>":                 "<pre><code class=\"language-go\">x</code></pre>",
		"<pre>x<code>y</code></pre>":                                      "<pre>x&lt;code&gt;y&lt;/code&gt;</pre>",
		"<a href='https://e.example/?a=1&b=2'>l</a>":                      "<a href=\"https://e.example/?a=1&amp;b=2\">l</a>",
		"<a>x</a> <a href=\"\">y</a>":                                     "&lt;a&gt;x&lt;/a&gt; &lt;a href=\"\"&gt;y&lt;/a&gt;",
		"<span class=\"tg-spoiler\">s</span><span>t</span>":               "<span class=\"tg-spoiler\">s</span>&lt;span&gt;t&lt;/span&gt;",
		"<blockquote expandable>q<blockquote>r</blockquote></blockquote>": "<blockquote expandable>q&lt;blockquote&gt;r</blockquote>&lt;/blockquote&gt;",
		"<b><i>x</b></i>":                                                 "<b><i>x&lt;/b&gt;</i></b>",
		"a\x00b\xffc":                                                     "ab\uFFFDc",
	}
	for in, want := range cases {
		got := sanitize(in)
		if got != want {
			t.Errorf("sanitize(%q) = %q, want %q", in, got, want)
		}
		checkText(t, got, 1<<20)
	}
	for in := range map[string]bool{"a & b <c> \"d\"": true, "&amp; already": true} {
		if back := unescapeHTML(EscapeHTML(in)); back != in {
			t.Errorf("unescapeHTML(EscapeHTML(%q)) = %q", in, back)
		}
	}
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
		{"tags count nothing", "<b>hello</b>", 5, "<b>hello</b>"},
		{"entities count one", "&amp;&amp;&amp;", 3, "&amp;&amp;&amp;"},
		{"cut closes tags", "<b>hello <i>world</i></b>", 8, "<b>hello <i>w…</i></b>"},
		{"never inside an entity", "ab&amp;cd", 3, "ab…"},
		{"emoji count twice", "🔥🔥🔥🔥", 6, "🔥🔥…"},
		{"never half a surrogate pair", "a🔥🔥", 3, "a…"},
		{"empty tags are dropped", "abc <b>defgh</b>", 5, "abc…"},
		{"no trailing space", "ab   <i>cdef</i>", 4, "ab…"},
		{"link kept whole", `<a href="https://e.example/long/path">link text</a>`, 5, `<a href="https://e.example/long/path">link…</a>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := truncate(c.in, c.max)
			if got != c.want {
				t.Errorf("truncate(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
			}
			checkText(t, got, c.max)
		})
	}
}

// FuzzSanitizeTruncate checks that any text whatsoever, sanitized and cut, is one Telegram
// parses within the length it was cut to.
func FuzzSanitizeTruncate(f *testing.F) {
	for _, s := range channeltest.Hostile {
		f.Add(s, uint16(10))
	}
	f.Add(`<pre><code class="language-go">x</code></pre><b>a<i>b</i></b>`, uint16(3))
	f.Fuzz(func(t *testing.T, s string, n uint16) {
		limit := int(n%5000) + 1
		checkText(t, truncate(sanitize(s), limit), limit)
	})
}

// FuzzMessage checks that no event data whatsoever yields a request Telegram refuses.
func FuzzMessage(f *testing.F) {
	f.Add("card_declined", "reason", "<b>x", uint8(3), 2)
	f.Add("\xff&", "", "</i>", uint8(200), 9000)
	ch := New(nil, defaultTemplates())
	f.Fuzz(func(t *testing.T, reason, key, value string, nfields uint8, grow int) {
		ev := channeltest.FuzzEvent(t, reason, key, value, nfields, grow)
		body, _, err := ch.message(channel.Notification{Event: ev}, "-100")
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, body)
	})
}

// BenchmarkMessage measures rendering and laying out one notification, as Send and Preview do
// before posting.
func BenchmarkMessage(b *testing.B) {
	ch := New(nil, defaultTemplates())
	ev := render.Samples()[3] // node.launched: the most fields
	n := channel.Notification{DeliveryID: ev.ID + ":bench", Attempt: 1, Event: ev}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ch.message(n, "-100"); err != nil {
			b.Fatal(err)
		}
	}
}
