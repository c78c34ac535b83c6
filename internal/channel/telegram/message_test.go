package telegram

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
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
	ch := New(nil, defaultTemplates())
	d := Destination("golden", "", "123456789:AAGoldenGoldenGoldenGoldenGoldenGo", "-1001234567890")
	for _, ev := range render.Samples() {
		t.Run(ev.Type, func(t *testing.T) {
			t.Parallel()
			pv, err := ch.Preview(channel.Notification{DeliveryID: ev.ID + ":golden", Attempt: 1, Event: ev, Destination: d})
			if err != nil {
				t.Fatal(err)
			}
			checkBody(t, pv.Body)
			var compact bytes.Buffer
			if err := json.Compact(&compact, pv.Body); err != nil || !bytes.Equal(compact.Bytes(), pv.Body) {
				t.Fatalf("body is not compact JSON (%v)", err)
			}
			var got bytes.Buffer
			if err := json.Indent(&got, pv.Body, "", "  "); err != nil {
				t.Fatal(err)
			}
			got.WriteByte('\n')
			path := filepath.Join("testdata", "golden", ev.Type+".json")
			if *update {
				if err := os.WriteFile(path, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/channel/telegram -update)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("payload differs from %s (run with -update if the change is intended):\ngot:\n%s\nwant:\n%s", path, got.Bytes(), want)
			}
		})
	}
}

// hostile are pieces of text chosen to break a message: the markup of every channel
// (Telegram HTML, Slack mrkdwn, Discord and Teams markdown), entities, mentions, multibyte
// letters, emoji and ZWJ sequences, right-to-left text and overrides, control characters and
// invalid UTF-8.
var hostile = []string{
	"a", "é", "日本", "🔥", "👩‍👩‍👧", "مرحبا بالعالم", "שלום", "\u202e", "\u200f", "&amp;", "&lt;", "&#39;", "&#128293;", "&nbsp;",
	"&", "<", ">", "\"", "'", "<b>", "</b>", "<i>x</i>", "<a href=\"https://evil.example\">x</a>", "<tg-spoiler>", "<pre>",
	"</code>", "<blockquote>", "<span class=\"tg-spoiler\">", "<script>", "*bold*", "**strong**", "_x_", "`code`", "```",
	"[x](https://evil.example)", "@everyone", "@here", "<!channel>", "<@U024BE7LH>", "{{DATE(x)}}", "\\", "\n", " ", "\t",
	"\x00", "\x7f", "\xff", "\u2028", "\u200d", "\ufe0f",
}

func hostileText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(hostile[r.IntN(len(hostile))])
	}
	return b.String()
}

// hostileEvent returns an event of a random type whose data is made of hostile text: some
// strings 10 kB long, up to 40 fields for a custom type.
func hostileEvent(t testing.TB, r *rand.Rand) *sdk.Event {
	t.Helper()
	text := func() string {
		if r.IntN(4) == 0 {
			return hostileText(r, 1+r.IntN(3000))
		}
		return hostileText(r, 1+r.IntN(6))
	}
	var data any
	typ := []string{"payment.failed", "node.health_degraded", "tenant.created", "node.launched", "order.shipped", "order.shipped"}[r.IntN(6)]
	switch typ {
	case "payment.failed":
		data = map[string]any{"tenant_id": text(), "reason": text(), "amount": r.Float64() * 1e6}
	case "node.health_degraded":
		var issues []string
		for range r.IntN(40) {
			issues = append(issues, text())
		}
		data = map[string]any{"node_id": text(), "health_score": r.Float64(), "issues": issues}
	case "tenant.created":
		data = map[string]any{"name": text(), "email": text(), "billing_plan": text()}
	case "node.launched":
		data = map[string]any{"node_id": text(), "provider": text(), "region": text(), "gpu_type": text(), "gpu_count": 8, "model": text()}
	default:
		m := map[string]any{}
		for range r.IntN(41) {
			m[hostileText(r, 1+r.IntN(4))] = text()
		}
		data = m
	}
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sdk.New(typ, "acme", json.RawMessage(raw), sdk.WithID(fmt.Sprintf("01JHOSTILE%d", r.Int64N(1e15))),
		sdk.WithSource(text()), sdk.WithTime(render.SampleTime))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestHostileEventsProperty renders many random events with hostile data through the
// templates and checks every body with the fake's parser: accepted, within 4096 characters,
// with no link and no entity made of event data.
func TestHostileEventsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(5, 6))
	runs := 100
	if testing.Short() || raceEnabled {
		runs = 20
	}
	ch := New(nil, defaultTemplates())
	for range runs {
		ev := hostileEvent(t, r)
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

// bigMessage returns a message whose every text is made of hostile pieces, markup included,
// as a template might write them, stressing the limits.
func bigMessage(r *rand.Rand, scale int) *render.Message {
	size := func() int { return r.IntN(scale) }
	m := &render.Message{
		Channel: Name, Type: hostileText(r, 3), Severity: []sdk.Severity{"", sdk.SeverityInfo, sdk.SeverityWarning, sdk.SeverityCritical}[r.IntN(4)],
		Title: hostileText(r, size()), Summary: hostileText(r, size()*4), Footer: hostileText(r, size()), Text: hostileText(r, size()),
		Time: time.Unix(r.Int64N(4_000_000_000), 0),
	}
	for i := range r.IntN(60) {
		value := hostileText(r, r.IntN(8))
		if i%8 == 0 {
			value = hostileText(r, size()*2)
		}
		m.Fields = append(m.Fields, render.Field{Name: hostileText(r, r.IntN(scale/8+1)), Value: value})
	}
	return m
}

// TestPayloadLimitsProperty lays out many random huge messages, whatever markup they hold,
// and checks that every text is one Telegram parses, within 4096 characters.
func TestPayloadLimitsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	runs := 150
	if testing.Short() || raceEnabled {
		runs = 30
	}
	for i := range runs {
		scale := []int{3, 40, 400, 3000}[i%4]
		checkText(t, buildText(bigMessage(r, scale)), maxTextLen)
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
	for _, s := range hostile {
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
		grow = max(1, min(grow, 20_000)/max(len(value), 1))
		data := map[string]any{"reason": reason, "tenant_id": key}
		typ := "payment.failed"
		if nfields%2 == 1 {
			typ = "order.shipped"
			custom := map[string]any{}
			for i := range int(nfields) {
				custom[fmt.Sprintf("%s%d", key, i)] = strings.Repeat(value, 1+i%grow)
			}
			data = custom
		}
		raw, _ := json.Marshal(data)
		ev, err := sdk.New(typ, "acme", json.RawMessage(raw), sdk.WithID("01JFUZZ"), sdk.WithSource("fuzz"), sdk.WithTime(render.SampleTime))
		if err != nil {
			t.Skip(err)
		}
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
