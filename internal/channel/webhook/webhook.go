package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
)

// Name is the channel's name in configuration and subjects.
const Name = "webhook"

const (
	// ContentType is the body's media type: a CloudEvent in JSON structured mode.
	// https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md#32-structured-content-mode
	ContentType = "application/cloudevents+json"
	// UserAgent identifies Herald to receivers.
	UserAgent = "Herald/1"
)

// Option changes a Channel built by New.
type Option func(*Channel)

// WithClock sets the clock that stamps webhook-timestamp. Defaults to time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Channel) { c.now = now }
}

// Channel sends signed webhooks. It is safe for concurrent use.
type Channel struct {
	client *http.Client
	// untimed is client without its Timeout, for sends whose context ends first anyway.
	untimed *http.Client
	signers *signerCache
	now     func() time.Time
}

// New returns the webhook channel. It sends with a copy of client that never follows
// redirects (a nil client means channel.NewHTTPClient(channel.DefaultTimeout)); the client's
// Timeout, or the context given to Send, bounds each send.
func New(client *http.Client, opts ...Option) *Channel {
	c := &Channel{
		client:  channel.NoRedirects(client),
		signers: newSignerCache(maxCachedSigners),
		now:     time.Now,
	}
	for _, o := range opts {
		o(c)
	}
	untimed := *c.client
	untimed.Timeout = 0
	c.untimed = &untimed
	return c
}

// Name returns "webhook".
func (c *Channel) Name() string { return Name }

// SendsRaw reports true: Send reads the event's bytes as published (Notification.Raw) and
// never the decoded Notification.Event when Raw is set, so a worker need not decode it.
func (c *Channel) SendsRaw() bool { return true }

// Send delivers one notification as a signed request and classifies the response with
// channel.Classify. The body is n.Raw unchanged (or n.Event encoded, if Raw is empty). It does
// not retry; a destination that fails Validate yields a Permanent outcome.
func (c *Channel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	d, err := configOf(n.Destination)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	method, err := methodOf(d.Method)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	if err := checkDeliveryID(n.DeliveryID); err != nil {
		return channel.Fail(0, err.Error())
	}
	if err := checkHeaders(d.Headers); err != nil {
		return channel.Fail(0, err.Error())
	}
	body := n.Raw
	if len(body) == 0 {
		if n.Event == nil {
			return channel.Fail(0, "webhook: notification has no event")
		}
		if body, err = json.Marshal(n.Event); err != nil {
			return channel.Fail(0, "webhook: encode event: "+err.Error())
		}
	}
	signer, err := c.signers.get(d.Secret)
	if err != nil {
		return channel.Fail(0, "webhook: "+err.Error())
	}

	req, err := http.NewRequestWithContext(ctx, method, d.URL, bytes.NewReader(body))
	if err != nil {
		// The error quotes the URL; say only what is wrong.
		return channel.Fail(0, "webhook: cannot build request for "+channel.RedactURL(d.URL))
	}
	if (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return channel.Fail(0, "webhook: url "+channel.RedactURL(d.URL)+" is not an absolute http or https URL")
	}
	for k, v := range d.Headers {
		req.Header.Set(k, v)
	}
	req.Header["Content-Type"] = []string{ContentType}
	req.Header["User-Agent"] = []string{UserAgent}
	signer.SetHeaders(req.Header, n.DeliveryID, c.now(), body)

	resp, err := c.clientFor(ctx).Do(req)
	if err == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return channel.Classify(resp, nil) // nothing to quote, so no secrets to mask
	}
	return channel.Classify(resp, err, d.Secrets()...)
}

// clientFor returns the client to send with under ctx. When ctx ends no later than the
// client's Timeout would, the Timeout adds nothing but a second context and timer per send
// (the worker bounds every send by its own deadline), so the copy without it is used; the
// bound of the send is the same: whichever comes first, the connection is closed and the
// body abandoned.
func (c *Channel) clientFor(ctx context.Context) *http.Client {
	if c.client.Timeout <= 0 {
		return c.client
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= c.client.Timeout {
		return c.untimed
	}
	return c.client
}

// methodOf returns the HTTP method for a destination's Method: POST if empty.
func methodOf(m string) (string, error) {
	switch strings.ToUpper(m) {
	case "", http.MethodPost:
		return http.MethodPost, nil
	case http.MethodPut:
		return http.MethodPut, nil
	}
	return "", errMethod
}
