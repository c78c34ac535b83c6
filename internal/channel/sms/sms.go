package sms

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// Name is the channel's name in configuration and subjects.
const Name = "sms"

const (
	// ContentType is the media type of every request body: the Messages API takes form
	// parameters. https://www.twilio.com/docs/usage/requests-to-twilio
	ContentType = "application/x-www-form-urlencoded"
	// UserAgent identifies Herald to Twilio.
	UserAgent = "Herald/1"
	// messagesPath is appended to the API URL, with the Account SID in place of %s.
	// https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
	messagesPath = "/2010-04-01/Accounts/%s/Messages.json"

	// DefaultPaceEvery and DefaultPaceBurst pace sends from one sender number. Twilio sends
	// one message a second from a long code (more from toll-free numbers and short codes),
	// queueing the rest, and refuses an account's requests with 429 beyond its concurrency;
	// pacing keeps its queue short and the account below that limit.
	// https://support.twilio.com/hc/en-us/articles/115002943027-Understanding-Twilio-Rate-Limits-and-Message-Queues
	DefaultPaceEvery = time.Second
	DefaultPaceBurst = 5
	// maxReason bounds an outcome's reason, which may list several recipients.
	maxReason = 1000
)

// Option changes a Channel built by New.
type Option func(*Channel)

// WithPace sets the pace of sends from one sender number (see Channel.Pace): one per every on
// average, burst back to back. Defaults to DefaultPaceEvery and DefaultPaceBurst; every <= 0
// leaves sends unpaced.
func WithPace(every time.Duration, burst int) Option {
	return func(c *Channel) { c.SetPace(every, burst) }
}

// WithClock sets the clock that expires the record of recipients already texted. Defaults to
// time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *Channel) { c.sent = newSentLog(now) }
}

// Channel texts notifications through Twilio's Messages API. It is safe for concurrent use.
type Channel struct {
	channel.Base
	sent *sentLog
}

// Interfaces the channel implements, checked at compile time.
var (
	_ channel.Channel   = (*Channel)(nil)
	_ channel.Pacer     = (*Channel)(nil)
	_ channel.Previewer = (*Channel)(nil)
)

// New returns the SMS channel, rendering with tpl (nil means the embedded templates). It sends
// with a copy of client that never follows redirects (a nil client means
// channel.NewHTTPClient(channel.DefaultTimeout)); the client's Timeout bounds each request,
// and the context given to Send bounds the whole send, one request per recipient.
func New(client *http.Client, tpl *render.Set, opts ...Option) *Channel {
	c := &Channel{
		Base: channel.NewBase(client, tpl, defaultTemplates, DefaultPaceEvery, DefaultPaceBurst),
		sent: newSentLog(time.Now),
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "sms".
func (c *Channel) Name() string { return Name }

// Pace returns the pace of sends from d's sender number. Its key is derived from a hash of
// the account and the number, so that every destination sending from them shares one pace.
func (c *Channel) Pace(d channel.Destination) channel.Pace {
	var sid, from string
	if cfg, err := configOf(d); err == nil {
		sid, from = cfg.AccountSID, cfg.From
	}
	return c.PaceOf(Name, sid+"\x00"+from)
}

// Preview returns the body Send would post for n to the destination's first recipient (the
// others differ only in To), and the SMS text. A notification without a destination is
// previewed with the made-up one of Provider.PreviewConfig. It fails for an event the
// templates cannot render, with the error Send would report.
func (c *Channel) Preview(n channel.Notification) (channel.Preview, error) {
	cfg, err := configOf(n.Destination)
	if err != nil {
		cfg = Provider{}.PreviewConfig().(*Config)
	}
	body, err := c.text(n)
	if err != nil {
		return channel.Preview{}, err
	}
	var to string
	if len(cfg.To) > 0 {
		to = cfg.To[0]
	}
	return channel.Preview{ContentType: ContentType, Body: []byte(form(cfg.From, to, body)), Text: body}, nil
}

// text renders n as the SMS body.
func (c *Channel) text(n channel.Notification) (string, error) {
	m, err := channel.RenderEvent(c.Templates, Name, n.Event)
	if err != nil {
		return "", err
	}
	return text(m), nil
}

// form is the request body of one message.
func form(from, to, body string) string {
	return url.Values{"To": {to}, "From": {from}, "Body": {body}}.Encode()
}

// Send texts one notification to each recipient of its destination, one request each, and
// does not retry. A recipient who already got this delivery (an earlier attempt reached them:
// see sentLog) is skipped, so a retry texts only those still waiting. The outcome is:
//
//   - Delivered when every recipient has the message (now or from an earlier attempt);
//   - Retry when a request failed in a way worth retrying (a 429, a 5xx, a network error, a
//     cancelled context): the send stops there, and the retry goes to whoever is left;
//   - Permanent otherwise: Twilio refused a recipient for good (an invalid, unsubscribed or
//     unreachable number: the send goes on with the others), or refused the account or the
//     message (wrong credentials, an unknown sender: the send stops). Those who could get the
//     message got it, and the reason names who did not and why.
//
// A destination that fails Validate, or an event that does not render, yields a Permanent
// outcome without a request. The reason never contains the auth token.
func (c *Channel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	d := n.Destination
	cfg, err := configOf(d)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	if err := cfg.Validate(); err != nil {
		return channel.Fail(0, err.Error())
	}
	body, err := c.text(n)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	endpoint := strings.TrimRight(cfg.apiURL(), "/") + fmt.Sprintf(messagesPath, url.PathEscape(cfg.AccountSID))
	secrets := d.Secrets()

	var (
		sent, status int
		failures     []failure
	)
	// Without a delivery id there is nothing to remember a send by: every recipient is texted.
	remember := n.DeliveryID != ""
	for _, to := range cfg.To {
		if remember && c.sent.has(n.DeliveryID, to) {
			sent++
			continue
		}
		o, code := c.post(ctx, endpoint, cfg, to, body, secrets)
		if o.Kind == channel.Delivered {
			if remember {
				c.sent.add(n.DeliveryID, to)
			}
			sent, status = sent+1, o.StatusCode
			continue
		}
		failures = append(failures, failure{to: to, o: o})
		if o.Kind != channel.Permanent || !recipientCodes[code] {
			break // it concerns every recipient: the others would fail alike
		}
	}
	if len(failures) == 0 {
		return channel.Sent(status)
	}
	return outcomeOf(failures, sent, len(cfg.To))
}

// failure is one recipient's failed request.
type failure struct {
	to string
	o  channel.Outcome
}

// outcomeOf sums up a send that failed for some recipients: the first retryable failure if
// there is one (a retry can help only those left), else the first permanent one, with a
// reason that names every failed recipient and says how many got the message.
func outcomeOf(failures []failure, sent, total int) channel.Outcome {
	o := failures[0].o
	for _, f := range failures {
		if f.o.Kind == channel.Retry {
			o = f.o
			break
		}
	}
	var b strings.Builder
	if total > 1 {
		b.WriteString("sent to " + strconv.Itoa(sent) + " of " + strconv.Itoa(total) + " recipients; ")
	}
	for i, f := range failures {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.to + ": " + f.o.Reason)
	}
	o.Reason = channel.OneLine(b.String(), maxReason)
	return o
}

// post sends one message and classifies Twilio's answer.
func (c *Channel) post(ctx context.Context, endpoint string, cfg *Config, to, body string, secrets []string) (channel.Outcome, int) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form(cfg.From, to, body)))
	if err != nil {
		// The error would quote the URL; say only what is wrong.
		return channel.Fail(0, "sms: cannot build the request to "+channel.RedactURL(cfg.apiURL())), 0
	}
	req.SetBasicAuth(cfg.AccountSID, cfg.AuthToken)
	req.Header["Content-Type"] = []string{ContentType}
	req.Header["Accept"] = []string{"application/json"}
	req.Header["User-Agent"] = []string{UserAgent}
	resp, err := c.Client.Do(req)
	if err != nil {
		return channel.Classify(resp, err, secrets...), 0
	}
	return classify(resp, secrets, c.Every*time.Duration(c.Burst))
}
