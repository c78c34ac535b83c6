package email_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/channel/email/emailtest"
	"github.com/heraldhq/herald/internal/render"
)

const (
	smtpUser     = "herald-bot"
	smtpPassword = "s3cret-Qz7ü-Lm42x"
)

// smtpSetup starts a server in mode with AUTH and returns it with a channel that trusts its
// certificate and logs to the returned buffer.
func smtpSetup(t *testing.T, mode emailtest.Mode, opts ...emailtest.SMTPOption) (*emailtest.SMTP, channel.Channel, channel.Destination, *logBuffer) {
	t.Helper()
	srv := emailtest.NewSMTP(t, append([]emailtest.SMTPOption{emailtest.WithMode(mode), emailtest.WithAuth(smtpUser, smtpPassword)}, opts...)...)
	logger, logs := debugLogger()
	ch := channel.Instrument(email.New(nil, nil, email.WithTLSConfig(srv.ClientTLSConfig()),
		email.WithClock(func() time.Time { return render.SampleTime }), email.WithSMTPTimeout(5*time.Second)), logger.With("channel", email.Name))
	d := srv.Destination("ops-mail", testFrom, testTo, "oncall@acme.example")
	if err := ch.Validate(d); err != nil {
		t.Fatalf("Validate(%s): %v", d, err)
	}
	return srv, ch, d, logs
}

var modes = []emailtest.Mode{emailtest.ModeSTARTTLS, emailtest.ModeImplicitTLS, emailtest.ModePlain}

// TestSMTPSamples sends every render sample through a real SMTP server in each TLS mode and
// checks the received message: envelope, headers, Message-ID, both parts.
func TestSMTPSamples(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.TLSParam(), func(t *testing.T) {
			t.Parallel()
			srv, ch, d, logs := smtpSetup(t, mode)
			samples := render.Samples()
			for _, ev := range samples {
				if o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, ev)); o.Kind != channel.Delivered {
					t.Fatalf("%s: outcome %+v, want delivered", ev.Type, o)
				}
			}
			msgs := srv.Messages()
			if len(msgs) != len(samples) {
				t.Fatalf("server got %d messages, want %d", len(msgs), len(samples))
			}
			for i, ev := range samples {
				m, n := msgs[i], channeltest.NotifyRaw(t, d, ev)
				pv, _ := channel.As[channel.Previewer](ch)
				p, err := pv.Preview(n)
				if err != nil {
					t.Fatal(err)
				}
				wantID := "<" + strings.ReplaceAll(n.DeliveryID, ":", ".") + "@herald.example>"
				checks := []struct {
					what      string
					got, want string
				}{
					{"envelope from", m.From, "alerts@herald.example"},
					{"envelope to", strings.Join(m.To, ","), testTo + ",oncall@acme.example"},
					{"From", m.Header.Get("From"), `"Herald" <alerts@herald.example>`},
					{"To", m.Header.Get("To"), "<" + testTo + ">, <oncall@acme.example>"},
					{"Subject", m.Subject, p.Subject},
					{"Message-ID", m.MessageID, wantID},
					{email.HeaderDeliveryID, m.Header.Get(email.HeaderDeliveryID), n.DeliveryID},
					{"Date", m.Header.Get("Date"), render.SampleTime.Format(time.RFC1123Z)},
					{"Auto-Submitted", m.Header.Get("Auto-Submitted"), "auto-generated"},
					{"content type", m.ContentType, "multipart/alternative"},
					{"text part", normalize(m.Text), normalize(p.Text)},
					{"html part", normalize(m.HTML), normalize(p.HTML)},
					{"user", m.User, smtpUser},
					{"tls", fmt.Sprint(m.TLS), fmt.Sprint(mode != emailtest.ModePlain)},
				}
				for _, c := range checks {
					if c.got != c.want {
						t.Errorf("%s: %s = %q, want %q", ev.Type, c.what, c.got, c.want)
					}
				}
				if len(m.Parts) != 2 || m.Parts[0].ContentType != "text/plain" || m.Parts[1].ContentType != "text/html" {
					t.Errorf("%s: parts %+v, want text/plain then text/html", ev.Type, m.Parts)
				}
			}
			if mode != emailtest.ModePlain && bytes.Contains(srv.ClearText(), []byte("AUTH")) {
				t.Errorf("AUTH was sent in clear text: %q", srv.ClearText())
			}
			assertNoLeak(t, "log", logs.String(), smtpPassword)
		})
	}
}

// normalize drops the trailing CR/LF differences a transfer encoding may add.
func normalize(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

func TestSMTPAuthFailureIsPermanent(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode.TLSParam(), func(t *testing.T) {
			t.Parallel()
			srv, ch, d, logs := smtpSetup(t, mode)
			const wrong = "wr0ng-Xk93-Tb71"
			d.Config.(*email.Config).SMTPPassword = wrong
			o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed")))
			if o.Kind != channel.Permanent || !strings.Contains(o.Reason, "535") || !strings.Contains(o.Reason, "authentication failed") {
				t.Fatalf("outcome %+v, want permanent naming a 535 authentication failure", o)
			}
			if srv.AuthAttempts() != 1 || len(srv.Messages()) != 0 {
				t.Errorf("server saw %d auth attempts and %d messages, want 1 and 0", srv.AuthAttempts(), len(srv.Messages()))
			}
			assertNoLeak(t, "reason", o.Reason, wrong, smtpPassword)
			assertNoLeak(t, "log", logs.String(), wrong, smtpPassword)
		})
	}
}

func TestSMTPReplies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		refusal emailtest.Refusal
		want    channel.Kind
	}{
		{emailtest.Refusal{Stage: emailtest.StageMail, Code: 421, Message: "Service not available, try later"}, channel.Retry},
		{emailtest.Refusal{Stage: emailtest.StageRcpt, Code: 450, Message: "Mailbox busy"}, channel.Retry},
		{emailtest.Refusal{Stage: emailtest.StageData, Code: 451, Message: "Local error in processing"}, channel.Retry},
		{emailtest.Refusal{Stage: emailtest.StageRcpt, Code: 550, Message: "No such user"}, channel.Permanent},
		{emailtest.Refusal{Stage: emailtest.StageData, Code: 554, Message: "Message rejected as spam"}, channel.Permanent},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %d", c.refusal.Stage, c.refusal.Code), func(t *testing.T) {
			t.Parallel()
			srv, ch, d, logs := smtpSetup(t, emailtest.ModeSTARTTLS, emailtest.WithRefusal(c.refusal))
			n := channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed"))
			o := ch.Send(t.Context(), n)
			if o.Kind != c.want || !strings.Contains(o.Reason, fmt.Sprint(c.refusal.Code)) || !strings.Contains(o.Reason, c.refusal.Message) {
				t.Fatalf("outcome %+v, want %s quoting %d %s", o, c.want, c.refusal.Code, c.refusal.Message)
			}
			if len(srv.Messages()) != 0 {
				t.Fatal("a refused message was recorded")
			}
			assertNoLeak(t, "reason", o.Reason, smtpPassword)
			assertNoLeak(t, "log", logs.String(), smtpPassword)
			if c.want == channel.Retry {
				srv.SetRefusal(nil)
				n.Attempt++
				if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
					t.Fatalf("retry once the server accepts: %+v", o)
				}
			}
		})
	}
}

// TestSMTPStartTLSRequired points a tls=starttls destination at a server that never offers
// STARTTLS (but would take AUTH in clear): nothing but EHLO may cross the wire in clear text.
func TestSMTPStartTLSRequired(t *testing.T) {
	t.Parallel()
	srv, ch, d, logs := smtpSetup(t, emailtest.ModePlain)
	d.Config.(*email.Config).SMTPTLS = email.TLSStartTLS
	o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed")))
	if o.Kind != channel.Permanent || !strings.Contains(o.Reason, "STARTTLS") || !strings.Contains(o.Reason, "nothing was sent") {
		t.Fatalf("outcome %+v, want permanent explaining that STARTTLS is missing", o)
	}
	clear := string(srv.ClearText())
	for _, line := range strings.Split(strings.TrimSpace(clear), "\r\n") {
		if verb, _, _ := strings.Cut(line, " "); verb != "EHLO" && verb != "QUIT" {
			t.Errorf("client sent %q in clear text; want only EHLO (and QUIT)", line)
		}
	}
	if !strings.HasPrefix(clear, "EHLO") {
		t.Errorf("clear text %q: the client did not even greet", clear)
	}
	if srv.AuthAttempts() != 0 || len(srv.Messages()) != 0 {
		t.Errorf("server saw %d auth attempts, %d messages; want none", srv.AuthAttempts(), len(srv.Messages()))
	}
	assertNoLeak(t, "clear text", clear, smtpPassword)
	assertNoLeak(t, "log", logs.String(), smtpPassword)
}

// TestSMTPImplicitAgainstPlainServer expects TLS from a server that speaks clear text: a TLS
// failure, retried, with nothing sent.
func TestSMTPImplicitAgainstPlainServer(t *testing.T) {
	t.Parallel()
	srv, ch, d, _ := smtpSetup(t, emailtest.ModePlain)
	d.Config.(*email.Config).SMTPTLS = email.TLSImplicit
	o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed")))
	if o.Kind != channel.Retry || !strings.HasPrefix(o.Reason, "smtp: ") {
		t.Fatalf("outcome %+v, want retry", o)
	}
	if len(srv.Messages()) != 0 || srv.AuthAttempts() != 0 {
		t.Fatal("something was sent")
	}
}

// TestSMTPUntrustedCertificate refuses a server whose certificate the channel does not trust.
func TestSMTPUntrustedCertificate(t *testing.T) {
	t.Parallel()
	srv := emailtest.NewSMTP(t, emailtest.WithAuth(smtpUser, smtpPassword))
	ch := email.New(nil, nil) // system roots: the test certificate is unknown
	d := srv.Destination("ops-mail", testFrom, testTo)
	o := ch.Send(t.Context(), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed")))
	if o.Kind != channel.Retry || !strings.Contains(o.Reason, "certificate") {
		t.Fatalf("outcome %+v, want retry naming the certificate", o)
	}
	if srv.AuthAttempts() != 0 || len(srv.Messages()) != 0 {
		t.Fatal("credentials or a message reached an untrusted server")
	}
}

func TestSMTPCancellation(t *testing.T) {
	t.Parallel()
	t.Run("before", func(t *testing.T) {
		t.Parallel()
		srv, ch, d, _ := smtpSetup(t, emailtest.ModeSTARTTLS)
		o := ch.Send(cancelledContext(t), channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed")))
		if o.Kind != channel.Retry || srv.Connections() != 0 {
			t.Fatalf("outcome %+v after %d connections, want retry without connecting", o, srv.Connections())
		}
	})
	t.Run("in flight", func(t *testing.T) {
		t.Parallel()
		// A server that accepts and never greets: the send hangs in the greeting until the
		// context is cancelled.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ln.Close() })
		accepted := make(chan net.Conn, 1)
		go func() {
			if c, err := ln.Accept(); err == nil {
				accepted <- c
			}
		}()
		ch := email.New(nil, nil, email.WithSMTPTimeout(time.Minute))
		host, port, _ := net.SplitHostPort(ln.Addr().String())
		p, _ := strconv.Atoi(port)
		d := email.Destination("ops-mail", &email.Config{Provider: email.ProviderSMTP, SMTPHost: host, SMTPPort: p,
			SMTPTLS: email.TLSStartTLS, From: testFrom, To: []string{testTo}})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan channel.Outcome, 1)
		go func() { done <- ch.Send(ctx, channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed"))) }()
		select {
		case conn := <-accepted:
			t.Cleanup(func() { _ = conn.Close() })
		case <-time.After(10 * time.Second):
			t.Fatal("the channel never connected")
		}
		start := time.Now()
		cancel()
		select {
		case o := <-done:
			if o.Kind != channel.Retry || !strings.Contains(o.Reason, "cancel") {
				t.Fatalf("outcome %+v, want retry for cancellation", o)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Send took %s to notice cancellation", d)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Send ignored the cancelled context")
		}
	})
}

func TestSMTPPreview(t *testing.T) {
	t.Parallel()
	srv, ch, d, _ := smtpSetup(t, emailtest.ModeSTARTTLS)
	n := channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "cost.anomaly_detected"))
	pv, _ := channel.As[channel.Previewer](ch)
	p, err := pv.Preview(n)
	if err != nil {
		t.Fatal(err)
	}
	if p.ContentType != "message/rfc822" {
		t.Errorf("content type %q", p.ContentType)
	}
	body := string(p.Body)
	for _, want := range []string{
		"Message-ID: <" + strings.ReplaceAll(n.DeliveryID, ":", ".") + "@herald.example>",
		email.HeaderDeliveryID + ": " + n.DeliveryID,
		"Content-Type: multipart/alternative",
		"Content-Type: text/plain; charset=UTF-8",
		"Content-Type: text/html; charset=UTF-8",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("preview lacks %q:\n%s", want, body)
		}
	}
	assertNoLeak(t, "preview", body, smtpPassword)
	if srv.Connections() != 0 {
		t.Error("Preview connected to the server")
	}
}

func TestMessageIDIsStableAndValid(t *testing.T) {
	t.Parallel()
	srv, ch, _, _ := smtpSetup(t, emailtest.ModeSTARTTLS)
	d := srv.Destination("tenant(ops)@mail", "alerts@Herald.Example", testTo)
	n := channeltest.NotifyRaw(t, d, channeltest.SampleOf(t, "payment.failed"))
	if err := ch.Validate(d); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 2 {
		if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
			t.Fatalf("outcome %+v", o)
		}
	}
	for _, m := range srv.Messages() {
		ids = append(ids, m.MessageID)
	}
	if len(ids) != 2 || ids[0] != ids[1] {
		t.Fatalf("Message-IDs %q: want the same id for the same delivery", ids)
	}
	id := ids[0]
	left, domain, ok := strings.Cut(strings.Trim(id, "<>"), "@")
	if !ok || domain != "herald.example" || strings.ContainsAny(left, " /:\"<>()[]\\,;@") || strings.Contains(left, "..") {
		t.Errorf("Message-ID %q is not a valid msg-id on the From domain", id)
	}
}
