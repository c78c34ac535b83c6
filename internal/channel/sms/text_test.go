package sms

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/sms/smstest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenConfig is the destination the goldens are rendered for.
var goldenConfig = &Config{
	AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
	From: "+15005550006", To: []string{"+14155550100"},
}

// checkBody fails the test unless a request carrying body is one Twilio accepts.
func checkBody(t testing.TB, body string) {
	t.Helper()
	if !utf8.ValidString(body) || strings.TrimSpace(body) == "" {
		t.Fatalf("body is empty or invalid UTF-8: %q", body)
	}
	if n := chars(body); n > MaxBodyChars {
		t.Fatalf("body has %d characters, more than %d", n, MaxBodyChars)
	}
	r := httptest.NewRequest("POST", DefaultAPIURL+fmt.Sprintf(messagesPath, goldenConfig.AccountSID), strings.NewReader(""))
	r.SetBasicAuth(goldenConfig.AccountSID, goldenConfig.AuthToken)
	r.Header.Set("Content-Type", ContentType)
	if _, err := smstest.CheckRequest(r, []byte(form(goldenConfig.From, goldenConfig.To[0], body))); err != nil {
		t.Fatalf("Twilio would refuse the message: %v\n%.2000q", err, body)
	}
}

// TestGolden compares the exact request body, and the text it carries, for every sample
// event with its golden file. Run go test ./internal/channel/sms -update to rewrite them
// after a template change.
func TestGolden(t *testing.T) {
	t.Parallel()
	ch := New(nil, defaultTemplates())
	d := channel.Destination{ID: "golden", Channel: Name, Config: goldenConfig}
	for _, ev := range render.Samples() {
		t.Run(ev.Type, func(t *testing.T) {
			t.Parallel()
			pv, err := ch.Preview(channel.Notification{DeliveryID: ev.ID + ":golden", Attempt: 1, Event: ev, Destination: d})
			if err != nil {
				t.Fatal(err)
			}
			checkBody(t, pv.Text)
			segments, enc := smstest.Segments(pv.Text)
			got := fmt.Appendf(nil, "%s\n\n%s\n\n(%d characters, %d %s segment(s))\n", pv.Body, pv.Text, chars(pv.Text), segments, enc)
			channeltest.Golden(t, filepath.Join("testdata", "golden", ev.Type+".txt"), got, *update)
		})
	}
}

// TestTextLimitsProperty lays out many random hostile messages, up to 10 kB a text and 40
// fields, and checks every body against Twilio's contract with smstest.
func TestTextLimitsProperty(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	runs := channeltest.Runs(400, 60)
	for i := range runs {
		scale := []int{3, 40, 400, 2500}[i%4]
		checkBody(t, text(channeltest.BigMessage(r, Name, scale)))
	}
}

// TestTextEdgeCases covers shapes the random property may miss.
func TestTextEdgeCases(t *testing.T) {
	t.Parallel()
	cases := map[string]*render.Message{
		"empty":         {},
		"blank":         {Title: " \n\t", Summary: "\r\n", Footer: "\x00", Fields: []render.Field{{}, {Name: " ", Value: "\n"}}},
		"controls only": {Type: "x.y", Title: "\x00\x01", Summary: "\x1b"},
		"emoji title":   {Title: strings.Repeat("🔥", 10_000), Severity: sdk.SeverityCritical},
		"huge summary":  {Title: "t", Summary: strings.Repeat("日本語 ", 10_000)},
		"many fields": {Title: "t", Fields: func() []render.Field {
			f := make([]render.Field, 500)
			for i := range f {
				f[i] = render.Field{Name: "n", Value: strings.Repeat("v", 3000)}
			}
			return f
		}()},
		"10 kB of plus":   {Title: strings.Repeat("+", 10_000)},
		"ZWJ at the cut":  {Title: strings.Repeat("👩‍👩‍👧", 100)},
		"invalid utf8":    {Title: "\xff\xfe", Summary: "\xc3", Footer: "\xed\xa0\x80"},
		"right to left":   {Title: strings.Repeat("\u202eשלום ", 500)},
		"form delimiters": {Title: "a=b&c=d%20+e", Summary: "?&=#"},
	}
	for name, m := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			checkBody(t, text(m))
		})
	}
	t.Run("parts in order", func(t *testing.T) {
		got := text(&render.Message{Title: "Title", Summary: "Line one\nLine two", Footer: "Herald: billing",
			Severity: sdk.SeverityWarning, Fields: []render.Field{{Name: "A", Value: "1"}, {Name: "B", Value: ""}, {Name: "", Value: "bare"}}})
		want := "[WARNING] Title\nLine one\nLine two\nA: 1\nbare\nHerald: billing"
		if got != want {
			t.Errorf("text = %q, want %q", got, want)
		}
	})
	t.Run("a huge summary leaves room for the rest", func(t *testing.T) {
		got := text(&render.Message{Title: "T", Summary: strings.Repeat("s", 5000), Footer: "F", Fields: []render.Field{{Name: "K", Value: "V"}}})
		if !strings.HasSuffix(got, "...\nK: V\nF") {
			t.Errorf("text ends %q, want the summary cut and the field and footer kept", got[len(got)-20:])
		}
	})
	t.Run("at most maxFields fields", func(t *testing.T) {
		var fs []render.Field
		for i := range 20 {
			fs = append(fs, render.Field{Name: fmt.Sprint("F", i), Value: "v"})
		}
		if got := strings.Count(text(&render.Message{Title: "T", Fields: fs}), ": v"); got != maxFields {
			t.Errorf("%d field lines, want %d", got, maxFields)
		}
	})
}

func TestCut(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello world", 8, "hello..."},
		{"héllo wörld", 9, "héllo..."},
		{"🔥🔥🔥🔥", 6, "🔥..."}, // each emoji counts two
		{"🔥🔥🔥🔥", 7, "🔥🔥..."},
		{"🔥🔥🔥🔥", 4, "..."},
		{"ab \u200dcdefgh", 6, "ab..."},
	}
	for _, c := range cases {
		got := cut(c.in, c.max)
		if got != c.want || chars(got) > c.max {
			t.Errorf("cut(%q, %d) = %q (%d characters), want %q", c.in, c.max, got, chars(got), c.want)
		}
	}
}

// FuzzText checks that no message whatsoever yields a body Twilio refuses.
func FuzzText(f *testing.F) {
	for _, ev := range render.Samples() {
		m, err := defaultTemplates().Render(Name, ev)
		if err != nil {
			f.Fatal(err)
		}
		var name, value string
		if len(m.Fields) > 0 {
			name, value = m.Fields[0].Name, m.Fields[0].Value
		}
		f.Add(m.Title, m.Summary, name, value, m.Footer, uint8(len(m.Fields)))
	}
	f.Add("\u202e@everyone", "<!channel> *b* _i_ `c`", "&amp;", "\xff", "\x00", uint8(40))
	f.Fuzz(func(t *testing.T, title, summary, name, value, footer string, nfields uint8) {
		grow := channeltest.Grow
		m := &render.Message{Title: grow(title, 200), Summary: grow(summary, 2000), Footer: footer, Severity: sdk.SeverityCritical}
		for i := range int(nfields) {
			v := value
			if i%2 == 0 {
				v = grow(value, 300)
			}
			m.Fields = append(m.Fields, render.Field{Name: name, Value: v})
		}
		checkBody(t, text(m))
	})
}

func TestSentLog(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newSentLog(func() time.Time { return now })
	l.add("d1", "+14155550100")
	if !l.has("d1", "+14155550100") || l.has("d1", "+14155550101") || l.has("d2", "+14155550100") {
		t.Fatal("has does not match add")
	}
	now = now.Add(sentTTL)
	if l.has("d1", "+14155550100") {
		t.Error("an entry outlived its TTL")
	}
	l.add("d2", "+14155550100")
	if l.len() != 1 {
		t.Errorf("%d entries after expiry, want 1", l.len())
	}
	for i := range maxSent + 10 {
		l.add(fmt.Sprint("bulk", i), "+14155550100")
	}
	if l.len() != maxSent {
		t.Errorf("%d entries, want the cap %d", l.len(), maxSent)
	}
	if l.has("d2", "+14155550100") || !l.has(fmt.Sprint("bulk", maxSent+9), "+14155550100") {
		t.Error("the oldest entries should go first")
	}
}

// BenchmarkText measures rendering and laying out one notification, as Send does before
// posting.
func BenchmarkText(b *testing.B) {
	ch := New(nil, defaultTemplates())
	ev := render.Samples()[3] // node.launched: the most fields
	n := channel.Notification{DeliveryID: ev.ID + ":bench", Attempt: 1, Event: ev}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ch.text(n); err != nil {
			b.Fatal(err)
		}
	}
}
