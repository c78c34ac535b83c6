package email

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// Name is the channel's name in configuration and subjects.
const Name = "email"

// UserAgent identifies Herald to Resend and names the mailer in SMTP messages.
const UserAgent = "Herald/1"

// Option changes a Channel built by New.
type Option func(*Channel)

// WithTLSConfig sets the TLS configuration for SMTP connections (tests pass one whose RootCAs
// trust their self-signed certificate). The channel clones it and sets ServerName to the
// destination's host when it is empty. Defaults to the system roots and TLS 1.2 or later.
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *Channel) { c.tlsConfig = cfg }
}

// WithPace sets the pace of SMTP destinations, which are unpaced by default: a relay's limits
// are its operator's to know. An empty p.Key is replaced by one derived from the server and
// user, so that destinations sharing a mailbox share a limiter. Resend destinations keep
// Resend's documented pace whatever this says.
func WithPace(p channel.Pace) Option {
	return func(c *Channel) { c.smtpPace = p }
}

// WithClock sets the clock that stamps the Date header of SMTP messages. Defaults to
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Channel) { c.now = now }
}

// WithSMTPTimeout bounds each SMTP command (connect, TLS handshake, each reply). Defaults to
// channel.DefaultTimeout; the context given to Send bounds the whole send.
func WithSMTPTimeout(d time.Duration) Option {
	return func(c *Channel) {
		if d > 0 {
			c.smtpTimeout = d
		}
	}
}

// Channel sends email through Resend or SMTP. It is safe for concurrent use.
type Channel struct {
	client      *http.Client
	tpl         *render.Set
	tlsConfig   *tls.Config
	smtpPace    channel.Pace
	smtpTimeout time.Duration
	now         func() time.Time
}

// New returns the email channel. Resend requests go through a copy of client that never
// follows redirects (nil means channel.NewHTTPClient(channel.DefaultTimeout)); messages are
// rendered with tpl (nil means the embedded templates).
func New(client *http.Client, tpl *render.Set, opts ...Option) *Channel {
	if tpl == nil {
		tpl = defaultTemplates()
	}
	c := &Channel{
		client:      channel.NoRedirects(client),
		tpl:         tpl,
		smtpTimeout: channel.DefaultTimeout,
		now:         time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "email".
func (c *Channel) Name() string { return Name }

// Resend's documented default rate limit: 2 requests per second per team, shared by every
// API key of the team. Pacing by key is the closest the channel can see.
// https://resend.com/docs/api-reference/introduction#rate-limit
const (
	resendEvery = 500 * time.Millisecond
	resendBurst = 2
)

// Pace returns Resend's rate limit for Resend destinations, keyed by a hash of the API key,
// and WithPace's (by default none) for SMTP destinations. An invalid destination is unpaced.
func (c *Channel) Pace(d channel.Destination) channel.Pace {
	t, err := parseTarget(d)
	if err != nil {
		return channel.Pace{}
	}
	if t.transport == transportResend {
		return channel.Pace{Key: "resend:" + shortHash(t.apiKey), Every: resendEvery, Burst: resendBurst}
	}
	p := c.smtpPace
	if p.Every <= 0 {
		return channel.Pace{}
	}
	if p.Key == "" {
		p.Key = "smtp:" + shortHash(strings.ToLower(t.host)+"\x00"+strconv.Itoa(t.port)+"\x00"+t.user)
	}
	p.Burst = max(p.Burst, 1)
	return p
}

// shortHash is the first 16 hex digits of s's SHA-256: enough to tell keys apart, useless to
// recover them.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// Send delivers one notification. It does not retry; a destination that fails Validate, or an
// event that cannot be rendered, yields a Permanent outcome.
func (c *Channel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	t, err := parseTarget(n.Destination)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	ct, err := c.compose(n)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	if err := ctx.Err(); err != nil {
		return channel.ClassifyError(err)
	}
	if t.transport == transportResend {
		return c.sendResend(ctx, t, ct)
	}
	return c.sendSMTP(ctx, t, ct)
}

// Preview returns what Send would send for n: for Resend the exact JSON request body, for
// SMTP the whole RFC 5322 message (its Date is the clock's now and its MIME boundary random,
// as they will be when sent). It fails as Send would for an invalid destination or an event
// that cannot be rendered.
func (c *Channel) Preview(n channel.Notification) (channel.Preview, error) {
	t, err := parseTarget(n.Destination)
	if err != nil {
		return channel.Preview{}, err
	}
	ct, err := c.compose(n)
	if err != nil {
		return channel.Preview{}, err
	}
	p := channel.Preview{Subject: ct.subject, HTML: ct.html, Text: ct.text}
	if t.transport == transportResend {
		body, err := resendPayload(t, ct)
		if err != nil {
			return channel.Preview{}, err
		}
		p.ContentType, p.Body = "application/json", body
		return p, nil
	}
	m, err := c.smtpMessage(t, ct)
	if err != nil {
		return channel.Preview{}, err
	}
	var b strings.Builder
	if _, err := m.WriteTo(&b); err != nil {
		return channel.Preview{}, errors.New("email: write message: " + err.Error())
	}
	p.ContentType, p.Body = "message/rfc822", []byte(b.String())
	return p, nil
}

// Interfaces the channel implements.
var (
	_ channel.Channel   = (*Channel)(nil)
	_ channel.Pacer     = (*Channel)(nil)
	_ channel.Previewer = (*Channel)(nil)
)
