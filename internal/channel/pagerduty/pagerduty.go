package pagerduty

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// Name is the channel's name in configuration and subjects.
const Name = "pagerduty"

const (
	// ContentType is the media type of every request body.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	ContentType = "application/json"
	// UserAgent identifies Herald to PagerDuty.
	UserAgent = "Herald/1"
	// enqueuePath is appended to the API URL.
	// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
	enqueuePath = "/v2/enqueue"

	// DefaultPaceEvery and DefaultPaceBurst pace sends to one routing key. PagerDuty throttles
	// each integration, adjusting the limit to the traffic, and answers 429 beyond it; the
	// figure it gives is 120 events a minute per integration key.
	// https://developer.pagerduty.com/docs/events-api-v2/overview/#response-codes--retry-logic
	DefaultPaceEvery = 500 * time.Millisecond
	DefaultPaceBurst = 10
)

// Option changes a Channel built by New.
type Option func(*Channel)

// WithPace sets the pace of sends to one routing key (see Channel.Pace): one per every on
// average, burst back to back. Defaults to DefaultPaceEvery and DefaultPaceBurst; every <= 0
// leaves sends unpaced.
func WithPace(every time.Duration, burst int) Option {
	return func(c *Channel) { c.SetPace(every, burst) }
}

// Channel sends notifications to PagerDuty's Events API v2 as alerts that open and resolve.
// It is safe for concurrent use.
type Channel struct {
	channel.Base
}

// Interfaces the channel implements, checked at compile time.
var (
	_ channel.Channel   = (*Channel)(nil)
	_ channel.Pacer     = (*Channel)(nil)
	_ channel.Previewer = (*Channel)(nil)
)

// New returns the PagerDuty channel, rendering with tpl (nil means the embedded templates).
// It sends with a copy of client that never follows redirects (a nil client means
// channel.NewHTTPClient(channel.DefaultTimeout)); the client's Timeout, or the context given
// to Send, bounds each send.
func New(client *http.Client, tpl *render.Set, opts ...Option) *Channel {
	c := &Channel{
		Base: channel.NewBase(client, tpl, defaultTemplates, DefaultPaceEvery, DefaultPaceBurst),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "pagerduty".
func (c *Channel) Name() string { return Name }

// Validate checks that d can receive alerts: a PagerDuty configuration that Config.Validate
// accepts. The error wraps channel.ErrInvalidDestination and a *channel.FieldError naming
// the field, and never contains the routing key.
func (c *Channel) Validate(d channel.Destination) error {
	if d.Channel != "" && d.Channel != Name {
		return fmt.Errorf("%w: pagerduty: destination is for channel %q", channel.ErrInvalidDestination, d.Channel)
	}
	cfg, err := configOf(d)
	if err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	return nil
}

// Pace returns the pace of sends to d's routing key. Its key is derived from a hash of the
// routing key, so that every destination of one integration shares one pace.
func (c *Channel) Pace(d channel.Destination) channel.Pace {
	var key string
	if cfg, err := configOf(d); err == nil {
		key = cfg.RoutingKey
	}
	return c.PaceOf(Name, key)
}

// Preview returns the event Send would post for n, with one difference: the routing key,
// which the body carries and which is a secret, is masked (channel.MaskSecret). Text is the
// alert's summary, or the dedup key a resolve names. A notification without a destination is
// previewed with the made-up one of Provider.PreviewConfig. It fails for an event the
// templates cannot render, with the error Send would report.
func (c *Channel) Preview(n channel.Notification) (channel.Preview, error) {
	cfg, err := configOf(n.Destination)
	if err != nil {
		cfg = Provider{}.PreviewConfig().(*Config)
	}
	ev, err := c.event(n, channel.MaskSecret(cfg.RoutingKey))
	if err != nil {
		return channel.Preview{}, err
	}
	body, err := encode(ev)
	if err != nil {
		return channel.Preview{}, err
	}
	text := ev.EventAction + " " + ev.DedupKey
	if ev.Payload != nil {
		text = ev.Payload.Summary
	}
	return channel.Preview{ContentType: ContentType, Body: body, Text: text}, nil
}

// event builds the event for n: a resolve, or a trigger rendered from the templates (see
// AlertOf).
func (c *Channel) event(n channel.Notification, routingKey string) (*event, error) {
	if n.Event == nil {
		return nil, errors.New("pagerduty: notification has no event")
	}
	a := AlertOf(n.Event)
	if a.Action == actionResolve {
		return resolve(a, routingKey), nil
	}
	m, err := channel.RenderEvent(c.Templates, Name, n.Event)
	if err != nil {
		return nil, err
	}
	return trigger(n, m, a, routingKey), nil
}

// Send posts one event to the Events API and classifies PagerDuty's answer (see classify). It
// does not retry; since the dedup key depends only on the event, a retry of a trigger that
// PagerDuty did take adds to the same alert rather than opening another. A destination that
// fails Validate, or an event that does not render, yields a Permanent outcome. The reason
// never contains the routing key.
func (c *Channel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	d := n.Destination
	cfg, err := configOf(d)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	if err := cfg.Validate(); err != nil {
		return channel.Fail(0, err.Error())
	}
	ev, err := c.event(n, cfg.RoutingKey)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	body, err := encode(ev)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	endpoint := strings.TrimRight(cfg.apiURL(), "/") + enqueuePath
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		// The error would quote the URL; say only what is wrong.
		return channel.Fail(0, "pagerduty: cannot build the request to "+channel.RedactURL(cfg.apiURL()))
	}
	req.Header["Content-Type"] = []string{ContentType}
	req.Header["Accept"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{UserAgent}
	resp, err := c.Client.Do(req)
	if err != nil {
		return channel.Classify(resp, err, d.Secrets()...)
	}
	return classify(resp, d.Secrets(), c.Every*time.Duration(c.Burst))
}
