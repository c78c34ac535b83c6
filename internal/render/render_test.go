package render

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// sampleValues lists, per sample type, the values its rendering must show, unescaped.
var sampleValues = map[string][]string{
	sdk.TypeTenantCreated:             {"Acme Corp", "ops@acme.example", "Pro"},
	sdk.TypePaymentSucceeded:          {"$1,249.50", "Acme Corp", "pay_3QK2x9"},
	sdk.TypePaymentFailed:             {"89.00", "acme", "card_declined: insufficient funds"},
	sdk.TypeNodeLaunched:              {"node-7f3a", "aws", "us-east-1", "8 × H100", "llama-3.1-70b", "yes", "12.34", "1m34s"},
	sdk.TypeNodeTerminated:            {"node-7f3a", "2m0s", "spot instance reclaim"},
	sdk.TypeNodeHealthDegraded:        {"node-7f3a", "0.42", "GPU 3 ECC errors", "NVLink degraded"},
	sdk.TypeCostAnomalyDetected:       {"4,210.75", "1,180.20", "3.57×", "2.5×"},
	sdk.TypeRateLimitThresholdReached: {"9,500 / 10,000", "95%"},
	CustomSampleType:                  {"DHL", "ord_8842", "3", "yes", "JD014600003SE", "https://track.example.com/JD014600003SE"},
}

func TestRenderSamples(t *testing.T) {
	t.Parallel()
	s := Default()
	for _, ch := range Channels() {
		esc := escaperFor(ch).esc
		for _, e := range Samples() {
			t.Run(ch+"/"+e.Type, func(t *testing.T) {
				t.Parallel()
				m, err := s.Render(ch, e)
				if err != nil {
					t.Fatal(err)
				}
				if m.Title == "" || m.Summary == "" || len(m.Fields) == 0 {
					t.Fatalf("empty title, summary or fields: %+v", m)
				}
				want := ch + "/" + e.Type + ".tmpl"
				if e.Type == CustomSampleType {
					want = ch + "/default.tmpl"
				}
				if m.Template != want || m.Channel != ch || m.Type != e.Type {
					t.Errorf("template, channel, type = %q, %q, %q; want %q, %q, %q", m.Template, m.Channel, m.Type, want, ch, e.Type)
				}
				if m.Severity != sdk.DefaultSeverity(e.Type) || !m.Time.Equal(SampleTime) {
					t.Errorf("severity, time = %s, %s", m.Severity, m.Time)
				}
				var fields strings.Builder
				for _, f := range m.Fields {
					if f.Name == "" || f.Value == "" {
						t.Errorf("field with empty name or value: %+v", f)
					}
					fields.WriteString(f.Value + "\n")
				}
				vals, ok := sampleValues[e.Type]
				if !ok {
					t.Fatalf("no expected values for sample %s", e.Type)
				}
				for _, v := range vals {
					if !strings.Contains(fields.String(), esc(v)) {
						t.Errorf("fields %q lack %q", fields.String(), esc(v))
					}
				}
				if !strings.Contains(m.Footer, e.ID) || !strings.Contains(m.Footer, "billing") {
					t.Errorf("footer %q lacks source or event id", m.Footer)
				}
				switch ch {
				case ChannelEmail:
					if !strings.HasPrefix(m.Subject, "["+string(m.Severity)+"] ") {
						t.Errorf("subject %q", m.Subject)
					}
					for _, part := range []string{m.Title, m.Fields[0].Name} {
						if !strings.Contains(m.Text, part) || !strings.Contains(m.HTML, htmlEscape(part)) {
							t.Errorf("text or HTML lacks %q", part)
						}
					}
					if !strings.Contains(m.HTML, SeverityHex(m.Severity)) {
						t.Errorf("HTML lacks the severity colour")
					}
				case ChannelSlack:
					if m.Text == "" || m.Subject != "" || m.HTML != "" {
						t.Errorf("slack text, subject, HTML = %q, %q, %q", m.Text, m.Subject, m.HTML)
					}
				case ChannelDiscord:
					if m.Text != m.Title || m.Subject != "" || m.HTML != "" {
						t.Errorf("discord text, subject, HTML = %q, %q, %q", m.Text, m.Subject, m.HTML)
					}
				}
			})
		}
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func TestRenderReadsWell(t *testing.T) {
	t.Parallel()
	s := Default()
	tests := []struct {
		channel, typ string
		in           func(*Message) string
		want         []string
	}{
		{ChannelDiscord, sdk.TypePaymentSucceeded, titleOf, []string{"Payment received: $1,249.50 from Acme Corp"}},
		{ChannelSlack, sdk.TypePaymentSucceeded, summaryOf, []string{"*Acme Corp* paid *$1,249.50*"}},
		{ChannelDiscord, sdk.TypePaymentSucceeded, summaryOf, []string{"**Acme Corp** paid **$1,249.50**"}},
		{ChannelDiscord, sdk.TypeNodeTerminated, titleOf, []string{"Spot reclaim", "2m0s"}},
		{ChannelEmail, sdk.TypeNodeTerminated, func(m *Message) string { return m.Subject }, []string{"[critical] Action needed", "2m0s"}},
		{ChannelSlack, sdk.TypeNodeHealthDegraded, summaryOf, []string{"2 issues", "• GPU 3 ECC errors\n• NVLink degraded"}},
		{ChannelDiscord, sdk.TypeCostAnomalyDetected, summaryOf, []string{"**4,210.75**", "**1,180.20**", "**3.57×**"}},
		{ChannelEmail, sdk.TypeRateLimitThresholdReached, titleOf, []string{"95%", "9,500 of 10,000"}},
		{ChannelDiscord, CustomSampleType, titleOf, []string{"Order shipped"}},
	}
	for _, tt := range tests {
		m, err := s.Render(tt.channel, sample(t, tt.typ))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if got := tt.in(m); !strings.Contains(got, w) {
				t.Errorf("%s %s: %q lacks %q", tt.channel, tt.typ, got, w)
			}
		}
	}
}

func titleOf(m *Message) string   { return m.Title }
func summaryOf(m *Message) string { return m.Summary }

func sample(t testing.TB, typ string) *sdk.Event {
	t.Helper()
	for _, e := range Samples() {
		if e.Type == typ {
			return e
		}
	}
	t.Fatalf("no sample of %s", typ)
	return nil
}

// hostile is text that every markup would misread.
const hostile = "<!channel> & @everyone @here <@123> *bold* _it_ ~s~ `c` | > # [x](http://e.vil) <script>alert(1)</script>"

func hostileEvents(t *testing.T) []*sdk.Event {
	t.Helper()
	paid, err := sdk.NewPaymentSucceeded("acme_corp", sdk.PaymentSucceeded{TenantName: hostile, Amount: 1, Currency: "USD", PaymentID: hostile},
		sdk.WithSource(hostile), sdk.WithID("01JHOSTILE"), sdk.WithTime(SampleTime))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(map[string]any{"note": hostile, "nested": map[string]any{"k": hostile}})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := sdk.New("order.disputed", "acme_corp", json.RawMessage(raw), sdk.WithSource("shop"), sdk.WithID("01JHOSTILE2"))
	if err != nil {
		t.Fatal(err)
	}
	return []*sdk.Event{paid, custom}
}

func TestEscaping(t *testing.T) {
	t.Parallel()
	s := Default()
	for _, e := range hostileEvents(t) {
		t.Run(e.Type, func(t *testing.T) {
			t.Parallel()
			slack, err := s.Render(ChannelSlack, e)
			if err != nil {
				t.Fatal(err)
			}
			discord, err := s.Render(ChannelDiscord, e)
			if err != nil {
				t.Fatal(err)
			}
			email, err := s.Render(ChannelEmail, e)
			if err != nil {
				t.Fatal(err)
			}
			// Slack: no raw control characters from the data anywhere.
			for _, str := range allStrings(slack) {
				if strings.Contains(str, "<!channel>") || strings.Contains(str, "<script>") || strings.Contains(str, " & ") {
					t.Errorf("slack string not escaped: %q", str)
				}
			}
			if !strings.Contains(strings.Join(allStrings(slack), "\n"), "&lt;!channel&gt; &amp; @everyone") {
				t.Errorf("slack lacks the escaped data: %q", allStrings(slack))
			}
			// Discord: no live mentions or markdown from the data, except in the plain footer.
			for _, str := range allStrings(discord)[:3] { // title, summary, fields
				for _, bad := range []string{"@everyone", "@here", "<@123>", " *bold*", " _it_", " `c`", " [x]"} {
					if strings.Contains(str, bad) {
						t.Errorf("discord string has %q: %q", bad, str)
					}
				}
			}
			if !strings.Contains(strings.Join(allStrings(discord), "\n"), "@"+zwsp+"everyone @"+zwsp+"here <@"+zwsp+`123\> \*bold\* \_it\_ \~s\~ \`+"`c\\`"+` \| \> \# \[x\]\(http://e.vil\)`) {
				t.Errorf("discord lacks the escaped data: %q", allStrings(discord))
			}
			if e.Source == hostile && !strings.Contains(discord.Footer, hostile) {
				t.Errorf("discord footer %q is not plain text", discord.Footer)
			}
			// Email: the text part is plain, the HTML escapes.
			if strings.Contains(email.HTML, "<script>") || !strings.Contains(email.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Errorf("email HTML does not escape <script>")
			}
			if !strings.Contains(email.Text, hostile) {
				t.Errorf("email text %q lacks the raw data", email.Text)
			}
		})
	}
}

// allStrings returns the title, summary, field values, footer and text of m.
func allStrings(m *Message) []string {
	var f strings.Builder
	for _, x := range m.Fields {
		f.WriteString(x.Name + ": " + x.Value + "\n")
	}
	return []string{m.Title, m.Summary, f.String(), m.Footer, m.Text}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	s := Default()
	e := sample(t, sdk.TypePaymentFailed)
	if _, err := s.Render("sms", e); !errors.Is(err, ErrUnknownChannel) {
		t.Errorf("unknown channel: err = %v, want ErrUnknownChannel", err)
	}
	if _, err := s.Render(ChannelSlack, nil); err == nil {
		t.Error("nil event: no error")
	}
	bad := *sample(t, CustomSampleType)
	bad.Data = json.RawMessage(`{"broken"`)
	if _, err := s.Render(ChannelSlack, &bad); err == nil || !strings.Contains(err.Error(), "slack/default.tmpl") {
		t.Errorf("invalid data: err = %v, want one naming slack/default.tmpl", err)
	}
}

func TestRenderFallbacks(t *testing.T) {
	t.Parallel()
	s := Default()
	// A seed type whose data does not fit its payload still notifies, generically.
	e := *sample(t, sdk.TypePaymentFailed)
	e.Data = json.RawMessage(`{"amount":"lots","reason":"x"}`)
	e.Severity = sdk.SeverityCritical
	e.Time = time.Time{}
	m, err := s.Render(ChannelDiscord, &e)
	if err != nil {
		t.Fatal(err)
	}
	if m.Template != "discord/default.tmpl" || m.Title != "Payment failed" || m.Severity != sdk.SeverityCritical || !m.Time.IsZero() {
		t.Errorf("got template %q, title %q, severity %s, time %s", m.Template, m.Title, m.Severity, m.Time)
	}
	// An event without tenant or data renders too.
	e2, err := sdk.New("job.done", "", nil, sdk.WithSource("cron"), sdk.WithID("01JX"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range Channels() {
		m, err := s.Render(ch, e2)
		if err != nil {
			t.Fatal(err)
		}
		if m.Title != "Job done" || len(m.Fields) != 0 || m.Footer != "cron · _ · 01JX" {
			t.Errorf("%s: title %q, fields %v, footer %q", ch, m.Title, m.Fields, m.Footer)
		}
	}
}

func TestRenderConcurrent(t *testing.T) {
	t.Parallel()
	s := Default()
	want := make(map[string]*Message)
	for _, ch := range Channels() {
		for _, e := range Samples() {
			m, err := s.Render(ch, e)
			if err != nil {
				t.Fatal(err)
			}
			want[ch+e.Type] = m
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, ch := range Channels() {
				for _, e := range Samples() {
					m, err := s.Render(ch, e)
					if err != nil {
						t.Error(err)
						return
					}
					if w := want[ch+e.Type]; m.HTML != w.HTML || m.Summary != w.Summary || len(m.Fields) != len(w.Fields) {
						t.Errorf("%s %s: concurrent render differs", ch, e.Type)
					}
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRender(b *testing.B) {
	s := Default()
	e := sample(b, sdk.TypeNodeLaunched)
	for _, ch := range Channels() {
		b.Run(ch, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Render(ch, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("discord/custom", func(b *testing.B) {
		e := sample(b, CustomSampleType)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Render(ChannelDiscord, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
