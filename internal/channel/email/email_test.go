package email_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	testFrom = "Herald <alerts@herald.example>"
	testTo   = "ops@acme.example"
)

// newClient returns a short-timeout client whose idle connections close with the test.
func newClient(t testing.TB) *http.Client {
	c := channel.NewHTTPClient(5 * time.Second)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// notify is the first attempt at delivering ev to d.
func notify(t testing.TB, d channel.Destination, ev *sdk.Event) channel.Notification {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return channel.Notification{DeliveryID: ev.ID + ":" + d.ID, Attempt: 1, Event: ev, Raw: raw, Destination: d}
}

// sample returns the render sample of type typ.
func sample(t testing.TB, typ string) *sdk.Event {
	t.Helper()
	for _, ev := range render.Samples() {
		if ev.Type == typ {
			return ev
		}
	}
	t.Fatalf("no render sample of type %s", typ)
	return nil
}

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
	ok := channel.Destination{ID: "d", Channel: email.Name, URL: "https://api.resend.com", Secret: key, From: testFrom, To: []string{testTo}}
	many := make([]string, email.MaxRecipients+1)
	for i := range many {
		many[i] = "r@acme.example"
	}
	cases := []struct {
		name  string
		edit  func(d *channel.Destination)
		field string // "" means valid
	}{
		{"resend", func(*channel.Destination) {}, ""},
		{"resend with path", func(d *channel.Destination) { d.URL = "http://127.0.0.1:8080/resend/" }, ""},
		{"smtp starttls with user", func(d *channel.Destination) { d.URL = "smtp://bot@mail.example:587"; d.Secret = pass }, ""},
		{"smtp implicit by port", func(d *channel.Destination) { d.URL = "smtp://bot@mail.example:465"; d.Secret = pass }, ""},
		{"smtp no auth", func(d *channel.Destination) { d.URL = "smtp://mail.example:25?tls=starttls"; d.Secret = "" }, ""},
		{"smtp none loopback auth", func(d *channel.Destination) { d.URL = "smtp://bot@127.0.0.1:2525?tls=none"; d.Secret = pass }, ""},
		{"smtp none localhost auth", func(d *channel.Destination) { d.URL = "smtp://bot@localhost:25?tls=none"; d.Secret = pass }, ""},
		{"smtp none remote no auth", func(d *channel.Destination) { d.URL = "smtp://relay.example:25?tls=none"; d.Secret = "" }, ""},
		{"many recipients", func(d *channel.Destination) { d.To = many[:email.MaxRecipients] }, ""},

		{"wrong channel", func(d *channel.Destination) { d.Channel = "slack" }, "-"},
		{"no url", func(d *channel.Destination) { d.URL = "" }, "url"},
		{"ftp url", func(d *channel.Destination) { d.URL = "ftp://x" }, "url"},
		{"resend query", func(d *channel.Destination) { d.URL = "https://api.resend.com?key=" + key }, "url"},
		{"resend no secret", func(d *channel.Destination) { d.Secret = "" }, "secret"},
		{"smtp password in url", func(d *channel.Destination) { d.URL = "smtp://bot:" + pass + "@mail.example:587"; d.Secret = pass }, "url"},
		{"smtp bad tls", func(d *channel.Destination) { d.URL = "smtp://bot@mail.example:587?tls=maybe"; d.Secret = pass }, "url"},
		{"smtp unknown param", func(d *channel.Destination) { d.URL = "smtp://mail.example:587?auth=plain"; d.Secret = "" }, "url"},
		{"smtp bad port", func(d *channel.Destination) { d.URL = "smtp://mail.example:99999"; d.Secret = "" }, "url"},
		{"smtp user without password", func(d *channel.Destination) { d.URL = "smtp://bot@mail.example:587"; d.Secret = "" }, "secret"},
		{"smtp password without user", func(d *channel.Destination) { d.URL = "smtp://mail.example:587"; d.Secret = pass }, "secret"},
		{"smtp none remote auth", func(d *channel.Destination) { d.URL = "smtp://bot@relay.example:25?tls=none"; d.Secret = pass }, "url"},
		{"no from", func(d *channel.Destination) { d.From = "" }, "from"},
		{"bad from", func(d *channel.Destination) { d.From = "alerts at herald" }, "from"},
		{"from injection", func(d *channel.Destination) { d.From = "a@b.example\r\nBcc: x@y.example" }, "from"},
		{"no to", func(d *channel.Destination) { d.To = nil }, "to"},
		{"bad to", func(d *channel.Destination) { d.To = []string{testTo, "nobody"} }, "to"},
		{"too many to", func(d *channel.Destination) { d.To = many }, "to"},
	}
	ch := email.New(nil, nil)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			d := ok
			d.To = append([]string(nil), ok.To...)
			c.edit(&d)
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
			if c.field != "-" {
				var fe *channel.FieldError
				if !errors.As(err, &fe) || fe.Field != c.field {
					t.Errorf("error %v: want a FieldError for %q", err, c.field)
				}
			}
			assertNoLeak(t, "error", err.Error(), key, pass)
			// Send refuses it the same way, permanently.
			o := ch.Send(t.Context(), notify(t, d, sample(t, "payment.failed")))
			if o.Kind != channel.Permanent {
				t.Errorf("Send to an invalid destination: %+v, want permanent", o)
			}
			assertNoLeak(t, "reason", o.Reason, key, pass)
		})
	}
}

func TestPace(t *testing.T) {
	t.Parallel()
	resend := channel.Destination{URL: "https://api.resend.com", Secret: "re_pace_key_0123456789", From: testFrom, To: []string{testTo}}
	other := resend
	other.Secret = "re_pace_key_other_98765"
	smtpDest := channel.Destination{URL: "smtp://bot@mail.example:587", Secret: "pw-0123456789", From: testFrom, To: []string{testTo}}

	ch := email.New(nil, nil)
	p := ch.Pace(resend)
	if !strings.HasPrefix(p.Key, "resend:") || len(p.Key) != len("resend:")+16 || p.Every != 500*time.Millisecond || p.Burst != 2 {
		t.Errorf("Resend pace = %+v, want resend:<16 hex>, 500ms, burst 2", p)
	}
	assertNoLeak(t, "pace key", p.Key, resend.Secret)
	if q := ch.Pace(other); q.Key == p.Key {
		t.Errorf("two API keys share the pace key %q", q.Key)
	}
	if q := ch.Pace(smtpDest); q != (channel.Pace{}) {
		t.Errorf("SMTP pace = %+v, want unpaced", q)
	}
	if q := ch.Pace(channel.Destination{URL: "nope"}); q != (channel.Pace{}) {
		t.Errorf("invalid destination pace = %+v, want unpaced", q)
	}

	paced := email.New(nil, nil, email.WithPace(channel.Pace{Every: time.Second}))
	q := paced.Pace(smtpDest)
	if !strings.HasPrefix(q.Key, "smtp:") || q.Every != time.Second || q.Burst != 1 {
		t.Errorf("SMTP pace with WithPace = %+v", q)
	}
	assertNoLeak(t, "pace key", q.Key, smtpDest.Secret)
	if r := paced.Pace(resend); r != p {
		t.Errorf("WithPace changed the Resend pace: %+v", r)
	}
}

func TestSubjectIsOneTrimmedLine(t *testing.T) {
	t.Parallel()
	// A custom event whose type is long: whatever the template makes of it, the subject
	// stays one line of at most 200 runes.
	ev := sample(t, render.CustomSampleType)
	long := *ev
	long.Type = "x." + strings.Repeat("ünïcødé", 60)
	d := channel.Destination{ID: "ops-mail", URL: "https://api.resend.com", Secret: "re_subject_0123456789", From: testFrom, To: []string{testTo}}
	p, err := email.New(nil, nil).Preview(notify(t, d, &long))
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
