package slack

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// Name is the channel's name in configuration and subjects.
const Name = "slack"

const (
	// ContentType is the media type of every request body.
	// https://api.slack.com/messaging/webhooks#posting_with_webhooks
	ContentType = "application/json"
	// UserAgent identifies Herald to Slack.
	UserAgent = "Herald/1"

	// DefaultPaceEvery and DefaultPaceBurst pace sends to one incoming webhook: Slack allows
	// about one message per second per webhook, with short bursts above it.
	// https://api.slack.com/apis/rate-limits
	DefaultPaceEvery = time.Second
	DefaultPaceBurst = 3
)

// Option changes a Channel built by New.
type Option func(*Channel)

// WithPace sets the pace of sends to one webhook (see Channel.Pace): one per every on
// average, burst back to back. Defaults to DefaultPaceEvery and DefaultPaceBurst; every <= 0
// leaves sends unpaced.
func WithPace(every time.Duration, burst int) Option {
	return func(c *Channel) { c.SetPace(every, burst) }
}

// Channel posts notifications to Slack incoming webhooks as Block Kit messages. It is safe
// for concurrent use.
type Channel struct {
	channel.Base
}

// Interfaces the channel implements, checked at compile time.
var (
	_ channel.Channel   = (*Channel)(nil)
	_ channel.Pacer     = (*Channel)(nil)
	_ channel.Previewer = (*Channel)(nil)
)

// New returns the Slack channel, rendering with tpl (nil means the embedded templates). It sends
// with a copy of client that never follows redirects (a nil client means
// channel.NewHTTPClient(channel.DefaultTimeout)); the client's Timeout, or the context given to
// Send, bounds each send.
func New(client *http.Client, tpl *render.Set, opts ...Option) *Channel {
	c := &Channel{
		Base: channel.NewBase(client, tpl, defaultTemplates, DefaultPaceEvery, DefaultPaceBurst),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "slack".
func (c *Channel) Name() string { return Name }

// Pace returns the pace of sends to d's webhook. Its key is derived from a hash of the
// webhook URL, which holds the webhook's token.
func (c *Channel) Pace(d channel.Destination) channel.Pace {
	var url string
	if cfg, err := configOf(d); err == nil {
		url = cfg.WebhookURL
	}
	return c.PaceOf(Name, url)
}

// Preview returns exactly the body Send would post for n, and its plain-text fallback. It
// fails for an event the templates cannot render, with the error Send would report.
func (c *Channel) Preview(n channel.Notification) (channel.Preview, error) {
	body, text, err := c.message(n)
	if err != nil {
		return channel.Preview{}, err
	}
	return channel.Preview{ContentType: ContentType, Body: body, Text: text}, nil
}

// message renders n and lays it out as the request body, returning the body and its
// top-level fallback text.
func (c *Channel) message(n channel.Notification) ([]byte, string, error) {
	m, err := channel.RenderEvent(c.Templates, Name, n.Event)
	if err != nil {
		return nil, "", err
	}
	p := buildPayload(m)
	body, err := encode(p)
	if err != nil {
		return nil, "", err
	}
	return body, p.Text, nil
}

// Send posts one notification to its destination's incoming webhook and classifies Slack's
// answer (see classify). It does not retry. A destination that fails Validate, or an event
// that does not render, yields a Permanent outcome. The outcome's reason never contains the
// webhook's token.
func (c *Channel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	d := n.Destination
	cfg, err := configOf(d)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	if err := checkURL(cfg.WebhookURL); err != nil {
		return channel.Fail(0, err.Error())
	}
	body, _, err := c.message(n)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.WebhookURL, bytes.NewReader(body))
	if err != nil {
		// The error quotes the URL; say only what is wrong.
		return channel.Fail(0, "slack: cannot build request for "+channel.RedactURL(cfg.WebhookURL))
	}
	req.Header["Content-Type"] = []string{ContentType}
	req.Header["User-Agent"] = []string{UserAgent}
	resp, err := c.Client.Do(req)
	if err != nil {
		return channel.Classify(resp, err, d.Secrets()...)
	}
	return classify(resp, d.Secrets())
}
