package discord

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// Name is the channel's name in configuration and subjects.
const Name = "discord"

const (
	// ContentType is the request body's media type.
	ContentType = "application/json"
	// UserAgent follows the form Discord asks API clients to send.
	// https://discord.com/developers/docs/reference#user-agent
	UserAgent = "DiscordBot (https://github.com/heraldhq/herald, 1)"

	// DefaultPaceEvery and DefaultPaceBurst pace sends to one webhook: Discord lets a webhook
	// execute about 5 times per 2 seconds, and answers more with 429. The numbers are not
	// documented and may change; the X-RateLimit headers, which set Outcome.Pause, are the
	// authority.
	// https://discord.com/developers/docs/topics/rate-limits
	DefaultPaceEvery = 400 * time.Millisecond
	DefaultPaceBurst = 5
)

// Option changes a Channel built by New.
type Option func(*Channel)

// WithPace sets the pace the channel reports for each webhook: one send every every, with
// bursts of burst. A burst below 1 counts as 1; every at or below zero leaves sends unpaced.
// Defaults to DefaultPaceEvery and DefaultPaceBurst.
func WithPace(every time.Duration, burst int) Option {
	return func(c *Channel) { c.pace = channel.Pace{Every: max(every, 0), Burst: max(burst, 1)} }
}

// WithAllowedHosts restricts Validate (and so Send) to webhook URLs on these hosts, compared
// case-insensitively without the port; ProductionHosts lists Discord's. Defaults to any host.
func WithAllowedHosts(hosts ...string) Option {
	return func(c *Channel) {
		c.hosts = nil
		for _, h := range hosts {
			c.hosts = append(c.hosts, strings.ToLower(h))
		}
	}
}

// Channel posts notifications to Discord webhooks as one rich embed each. It is safe for
// concurrent use.
type Channel struct {
	client *http.Client
	tpl    *render.Set
	pace   channel.Pace
	hosts  []string
}

var (
	_ channel.Channel   = (*Channel)(nil)
	_ channel.Pacer     = (*Channel)(nil)
	_ channel.Previewer = (*Channel)(nil)
)

// New returns the Discord channel, rendering with tpl (nil means the embedded templates). It sends
// with a copy of client that never follows redirects (nil means
// channel.NewHTTPClient(channel.DefaultTimeout)); the client's Timeout, or the context given to
// Send, bounds each send.
func New(client *http.Client, tpl *render.Set, opts ...Option) *Channel {
	if tpl == nil {
		tpl = defaultTemplates()
	}
	c := &Channel{
		client: channel.NoRedirects(client),
		tpl:    tpl,
		pace:   channel.Pace{Every: DefaultPaceEvery, Burst: DefaultPaceBurst},
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "discord".
func (c *Channel) Name() string { return Name }

// Pace reports the webhook's rate-limit bucket: the key is "discord:" and the webhook's id
// (never its token), so destinations that share a webhook share a limiter. A destination
// whose URL is not a webhook URL gets a key made from a hash of the URL; Send refuses it
// anyway.
func (c *Channel) Pace(d channel.Destination) channel.Pace {
	p := c.pace
	var raw string
	if cfg, err := configOf(d); err == nil {
		raw = cfg.WebhookURL
	}
	if t, err := parseURL(raw, c.hosts); err == nil {
		p.Key = Name + ":" + t.id
	} else {
		sum := sha256.Sum256([]byte(raw))
		p.Key = Name + ":invalid:" + hex.EncodeToString(sum[:8])
	}
	return p
}

// Preview returns exactly the body Send would post for n, and a plain-text rendering of it.
// It fails, with the error Send would report, for a notification without an event or whose
// event the templates cannot render.
func (c *Channel) Preview(n channel.Notification) (channel.Preview, error) {
	body, p, err := c.payload(n)
	if err != nil {
		return channel.Preview{}, err
	}
	return channel.Preview{ContentType: ContentType, Body: body, Text: plainText(&p.Embeds[0])}, nil
}

// payload renders n and builds the body Send posts.
func (c *Channel) payload(n channel.Notification) ([]byte, *payload, error) {
	m, err := channel.RenderEvent(c.tpl, Name, n.Event)
	if err != nil {
		return nil, nil, err
	}
	body, p, err := buildPayload(m)
	if err != nil {
		return nil, nil, fmt.Errorf("discord: encode payload: %w", err)
	}
	return body, p, nil
}

// Send posts one notification to the destination's webhook with ?wait=true, so that Discord
// answers only once the message exists, and classifies the answer (see classify). It does not
// retry. A destination that fails Validate, or an event that does not render, is a Permanent
// outcome without a request.
func (c *Channel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	if err := c.Validate(n.Destination); err != nil {
		return channel.Fail(0, err.Error())
	}
	cfg, _ := configOf(n.Destination)     // valid: Validate passed
	t, _ := parseURL(cfg.WebhookURL, nil) // likewise
	secrets := cfg.Secrets()
	body, _, err := c.payload(n)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	u := *t.url
	q := u.Query()
	q.Set("wait", "true")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		// The error quotes the URL; say only what is wrong.
		return channel.Fail(0, "discord: cannot build request for "+channel.RedactURL(cfg.WebhookURL))
	}
	req.Header["Content-Type"] = []string{ContentType}
	req.Header["User-Agent"] = []string{UserAgent}
	resp, err := c.client.Do(req)
	return c.classify(resp, err, secrets)
}
