package telegram

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// Name is the channel's name in configuration and subjects.
const Name = "telegram"

const (
	// ContentType is the media type of every request body.
	// https://core.telegram.org/bots/api#making-requests
	ContentType = "application/json"
	// UserAgent identifies Herald to Telegram.
	UserAgent = "Herald/1"

	// DefaultPaceEvery and DefaultPaceBurst pace sends to one private chat: "avoid sending
	// more than one message per second", with short bursts tolerated.
	// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
	DefaultPaceEvery = time.Second
	DefaultPaceBurst = 3
	// DefaultGroupPaceEvery and DefaultGroupPaceBurst pace sends to one group or channel (a
	// negative id or an @username): "no more than 20 messages per minute to the same group".
	// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
	DefaultGroupPaceEvery = 3 * time.Second
	DefaultGroupPaceBurst = 1
)

// Option changes a Channel built by New.
type Option func(*Channel)

// WithPace sets the pace of sends to one chat, private or group alike (see Channel.Pace): one
// per every on average, burst back to back. every <= 0 leaves sends unpaced.
func WithPace(every time.Duration, burst int) Option {
	return func(c *Channel) {
		c.every, c.burst = max(every, 0), max(burst, 1)
		c.groupEvery, c.groupBurst = c.every, c.burst
	}
}

// Channel posts notifications to Telegram chats with the Bot API's sendMessage. It is safe
// for concurrent use.
type Channel struct {
	client            *http.Client
	tpl               *render.Set
	every, groupEvery time.Duration
	burst, groupBurst int
}

// Interfaces the channel implements, checked at compile time.
var (
	_ channel.Channel   = (*Channel)(nil)
	_ channel.Pacer     = (*Channel)(nil)
	_ channel.Previewer = (*Channel)(nil)
)

// New returns the Telegram channel, rendering with tpl (nil means the embedded templates). It
// sends with a copy of client that never follows redirects (a nil client means
// channel.NewHTTPClient(channel.DefaultTimeout)); the client's Timeout, or the context given
// to Send, bounds each send.
func New(client *http.Client, tpl *render.Set, opts ...Option) *Channel {
	if tpl == nil {
		tpl = defaultTemplates()
	}
	c := &Channel{
		client:     channel.NoRedirects(client),
		tpl:        tpl,
		every:      DefaultPaceEvery,
		burst:      DefaultPaceBurst,
		groupEvery: DefaultGroupPaceEvery,
		groupBurst: DefaultGroupPaceBurst,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Name returns "telegram".
func (c *Channel) Name() string { return Name }

// Pace returns the pace of sends to d's chat: Telegram limits each chat, more tightly a group
// or a channel than a private chat. Its key is derived from a hash of the bot token and the
// chat, so that two destinations posting to one chat with one bot share it.
func (c *Channel) Pace(d channel.Destination) channel.Pace {
	var token, chat string
	if cfg, err := configOf(d); err == nil {
		token, chat = cfg.BotToken, cfg.ChatID
	}
	every, burst := c.every, c.burst
	if strings.HasPrefix(chat, "-") || strings.HasPrefix(chat, "@") {
		every, burst = c.groupEvery, c.groupBurst
	}
	return channel.HashedPace(Name, token+"\x00"+chat, every, burst)
}

// Preview returns exactly the body Send would post for n, and the message's visible text as
// its plain text. It fails for an event the templates cannot render, with the error Send
// would report.
func (c *Channel) Preview(n channel.Notification) (channel.Preview, error) {
	chatID := "@herald_preview"
	if cfg, err := configOf(n.Destination); err == nil && cfg.ChatID != "" {
		chatID = cfg.ChatID
	}
	body, text, err := c.message(n, chatID)
	if err != nil {
		return channel.Preview{}, err
	}
	return channel.Preview{ContentType: ContentType, Body: body, Text: text}, nil
}

// message renders n and lays it out as the request body to chatID, returning the body and the
// message's text.
func (c *Channel) message(n channel.Notification, chatID string) ([]byte, string, error) {
	m, err := channel.RenderEvent(c.tpl, Name, n.Event)
	if err != nil {
		return nil, "", err
	}
	text := buildText(m)
	body, err := encode(payload{
		ChatID: chatIDValue(chatID), Text: text, ParseMode: ParseMode,
		LinkPreviewOptions: linkPreviewOptions{IsDisabled: true},
	})
	if err != nil {
		return nil, "", err
	}
	return body, text, nil
}

// Send posts one notification to its destination's chat and classifies Telegram's answer
// (see classify). It does not retry. A destination that fails Validate, or an event that does
// not render, yields a Permanent outcome. The request URL holds the bot token, so no reason
// quotes it: the outcome is masked with the destination's secrets here already.
func (c *Channel) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	d := n.Destination
	cfg, err := configOf(d)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	if err := checkConfig(cfg); err != nil {
		return channel.Fail(0, err.Error())
	}
	secrets := d.Secrets()
	body, _, err := c.message(n, cfg.ChatID)
	if err != nil {
		return channel.Fail(0, err.Error())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.endpoint(), bytes.NewReader(body))
	if err != nil {
		// The error quotes the URL, token and all; say only what is wrong.
		return channel.Fail(0, "telegram: cannot build a request for the api url "+channel.RedactURL(cfg.apiURL()))
	}
	req.Header["Content-Type"] = []string{ContentType}
	req.Header["User-Agent"] = []string{UserAgent}
	resp, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// The URL's first path segment is bot<token>, which RedactURL keeps: replace it.
			err = &url.Error{Op: ue.Op, URL: cfg.apiURL() + "/bot" + channel.Mask + "/sendMessage", Err: ue.Err}
		}
		return channel.Classify(resp, err, secrets...).Redacted(secrets...)
	}
	return classify(resp, secrets).Redacted(secrets...)
}
