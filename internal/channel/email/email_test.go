package email_test

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/render"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testFrom = "Herald <alerts@herald.example>"
	testTo   = "ops@acme.example"
)

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func debugLogger() (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// assertNoLeak fails if text holds secret or a 6-byte piece of it.
func assertNoLeak(t testing.TB, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for i := 0; i+6 <= len(s); i++ {
			if strings.Contains(text, s[i:i+6]) {
				t.Errorf("%s leaks secret material %q: %s", where, s[i:i+6], text)
				break
			}
		}
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	const key = "re_validate_0123456789abcdef"
	const pass = "hunter2-Zq81xv-Kp"
	ok := email.Config{ResendAPIKey: key, From: testFrom, To: []string{testTo}}
	smtp := func(host string, port int, tls, user, password string) func(c *email.Config) {
		return func(c *email.Config) {
			*c = email.Config{From: c.From, To: c.To, Provider: email.ProviderSMTP, SMTPHost: host, SMTPPort: port,
				SMTPTLS: tls, SMTPUsername: user, SMTPPassword: password}
		}
	}
	many := make([]string, email.MaxRecipients+1)
	for i := range many {
		many[i] = "r@acme.example"
	}
	cases := []struct {
		name  string
		edit  func(c *email.Config)
		field string // "" means valid
	}{
		{"resend", func(*email.Config) {}, ""},
		{"resend with path", func(c *email.Config) { c.ResendAPIURL = "http://127.0.0.1:8080/resend/" }, ""},
		{"smtp starttls with user", smtp("mail.example", 587, "", "bot", pass), ""},
		{"smtp implicit by port", smtp("mail.example", 465, "", "bot", pass), ""},
		{"smtp no auth", smtp("mail.example", 25, "starttls", "", ""), ""},
		{"smtp default port", smtp("mail.example", 0, "", "", ""), ""},
		{"smtp none loopback auth", smtp("127.0.0.1", 2525, "none", "bot", pass), ""},
		{"smtp none localhost auth", smtp("localhost", 25, "none", "bot", pass), ""},
		{"smtp none remote no auth", smtp("relay.example", 25, "none", "", ""), ""},
		{"many recipients", func(c *email.Config) { c.To = many[:email.MaxRecipients] }, ""},

		{"ftp url", func(c *email.Config) { c.ResendAPIURL = "ftp://x" }, "resend_api_url"},
		{"resend query", func(c *email.Config) { c.ResendAPIURL = "https://api.resend.com?key=" + key }, "resend_api_url"},
		{"resend no key", func(c *email.Config) { c.ResendAPIKey = "" }, "resend_api_key"},
		{"unknown provider", func(c *email.Config) { c.Provider = "sendgrid" }, "provider"},
		{"smtp no host", smtp("", 587, "", "", ""), "smtp_host"},
		{"smtp bad tls", smtp("mail.example", 587, "maybe", "bot", pass), "smtp_tls"},
		{"smtp bad port", smtp("mail.example", 99999, "", "", ""), "smtp_port"},
		{"smtp user without password", smtp("mail.example", 587, "", "bot", ""), "smtp_password"},
		{"smtp password without user", smtp("mail.example", 587, "", "", pass), "smtp_password"},
		{"smtp none remote auth", smtp("relay.example", 25, "none", "bot", pass), "smtp_tls"},
		{"no from", func(c *email.Config) { c.From = "" }, "from"},
		{"bad from", func(c *email.Config) { c.From = "alerts at herald" }, "from"},
		{"from injection", func(c *email.Config) { c.From = "a@b.example\r\nBcc: x@y.example" }, "from"},
		{"no to", func(c *email.Config) { c.To = nil }, "to"},
		{"bad to", func(c *email.Config) { c.To = []string{testTo, "nobody"} }, "to"},
		{"too many to", func(c *email.Config) { c.To = many }, "to"},
	}
	ch := email.New(nil, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			cfg.To = append([]string(nil), ok.To...)
			c.edit(&cfg)
			d := email.Destination("d", &cfg)
			err := ch.Validate(d)
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate accepted an invalid destination")
			}
			if !errors.Is(err, channel.ErrInvalidDestination) {
				t.Errorf("error %v does not wrap ErrInvalidDestination", err)
			}
			var fe *channel.FieldError
			if !errors.As(err, &fe) || fe.Field != c.field {
				t.Errorf("error %v: want a FieldError for %q", err, c.field)
			}
			assertNoLeak(t, "error", err.Error(), key, pass)
			// Send refuses it the same way, permanently.
			o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed")))
			if o.Kind != channel.Permanent {
				t.Errorf("Send to an invalid destination: %+v, want permanent", o)
			}
			assertNoLeak(t, "reason", o.Reason, key, pass)
		})
	}
	t.Run("wrong channel", func(t *testing.T) {
		cfg := ok
		d := email.Destination("d", &cfg)
		d.Channel = "slack"
		if err := ch.Validate(d); !errors.Is(err, channel.ErrInvalidDestination) {
			t.Errorf("Validate = %v, want ErrInvalidDestination", err)
		}
	})
}

func TestPace(t *testing.T) {
	t.Parallel()
	resendCfg := &email.Config{ResendAPIKey: "re_pace_key_0123456789", From: testFrom, To: []string{testTo}}
	resend := email.Destination("r", resendCfg)
	other := email.Destination("o", &email.Config{ResendAPIKey: "re_pace_key_other_98765", From: testFrom, To: []string{testTo}})
	smtpCfg := &email.Config{Provider: email.ProviderSMTP, SMTPHost: "mail.example", SMTPPort: 587, SMTPUsername: "bot",
		SMTPPassword: "pw-0123456789", From: testFrom, To: []string{testTo}}
	smtpDest := email.Destination("s", smtpCfg)

	ch := email.New(nil, nil)
	p := ch.Pace(resend)
	if !strings.HasPrefix(p.Key, "resend:") || len(p.Key) != len("resend:")+16 || p.Every != 500*time.Millisecond || p.Burst != 2 {
		t.Errorf("Resend pace = %+v, want resend:<16 hex>, 500ms, burst 2", p)
	}
	assertNoLeak(t, "pace key", p.Key, resendCfg.ResendAPIKey)
	if q := ch.Pace(other); q.Key == p.Key {
		t.Errorf("two API keys share the pace key %q", q.Key)
	}
	if q := ch.Pace(smtpDest); q != (channel.Pace{}) {
		t.Errorf("SMTP pace = %+v, want unpaced", q)
	}
	if q := ch.Pace(email.Destination("x", &email.Config{Provider: "nope"})); q != (channel.Pace{}) {
		t.Errorf("invalid destination pace = %+v, want unpaced", q)
	}

	paced := email.New(nil, nil, email.WithPace(channel.Pace{Every: time.Second}))
	q := paced.Pace(smtpDest)
	if !strings.HasPrefix(q.Key, "smtp:") || q.Every != time.Second || q.Burst != 1 {
		t.Errorf("SMTP pace with WithPace = %+v", q)
	}
	assertNoLeak(t, "pace key", q.Key, smtpCfg.SMTPPassword)
	if r := paced.Pace(resend); r != p {
		t.Errorf("WithPace changed the Resend pace: %+v", r)
	}
}

func TestSubjectIsOneTrimmedLine(t *testing.T) {
	t.Parallel()
	// A custom event whose type is long: whatever the template makes of it, the subject
	// stays one line of at most 200 runes.
	ev := channeltest.SampleOf(t, render.CustomSampleType)
	long := *ev
	long.Type = "x." + strings.Repeat("ünïcødé", 60)
	d := email.Destination("ops-mail", &email.Config{ResendAPIKey: "re_subject_0123456789", From: testFrom, To: []string{testTo}})
	p, err := email.New(nil, nil).Preview(channeltest.NotifyRaw(t, d, &long))
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(p.Subject, "\r\n\t") || strings.TrimSpace(p.Subject) != p.Subject || p.Subject == "" {
		t.Errorf("subject %q is not one trimmed line", p.Subject)
	}
	if n := len([]rune(p.Subject)); n > 200 {
		t.Errorf("subject has %d runes, want at most 200", n)
	}
}
