package telegram

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

//go:embed templates
var templates embed.FS

// DefaultAPIURL is where the Bot API is served.
// https://core.telegram.org/bots/api#making-requests
const DefaultAPIURL = "https://api.telegram.org"

// Config is a Telegram destination: a bot and one chat it posts to.
type Config struct {
	// BotToken is the bot's token from @BotFather, "123456789:AA…". It is a credential, and it
	// travels in the request path: the request URL is never logged or quoted.
	BotToken string `json:"bot_token"`
	// ChatID is one chat: a number (-1001234567890 for a supergroup or channel) or a public
	// channel's @username.
	ChatID string `json:"chat_id"`
	// APIURL is the Bot API's scheme and host, with an optional base path; Herald appends
	// /bot<token>/sendMessage. Empty means DefaultAPIURL. Only the operator sets it.
	APIURL string `json:"api_url,omitempty"`
}

// Validate implements channel.Config: see checkConfig.
func (c *Config) Validate() error { return checkConfig(c) }

// Secrets implements channel.Config: the bot token, whole and its secret part after the
// colon, and whatever in the API URL may be a credential.
func (c *Config) Secrets() []string {
	var out []string
	if c.BotToken != "" {
		out = append(out, c.BotToken)
		if _, secret, ok := strings.Cut(c.BotToken, ":"); ok && len(secret) >= 8 {
			out = append(out, secret)
		}
	}
	return append(out, channel.SecretsOf(nil, nil, c.APIURL)...)
}

// apiURL is the base the request path is appended to.
func (c *Config) apiURL() string {
	if c.APIURL == "" {
		return DefaultAPIURL
	}
	return strings.TrimRight(c.APIURL, "/")
}

// endpoint is the sendMessage URL. It holds the token: never log or quote it.
func (c *Config) endpoint() string { return c.apiURL() + "/bot" + c.BotToken + "/sendMessage" }

// Destination returns a Telegram destination named id that posts to chatID with the bot
// botToken through the Bot API at apiURL ("" means DefaultAPIURL).
func Destination(id, apiURL, botToken, chatID string) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: &Config{BotToken: botToken, ChatID: chatID, APIURL: apiURL}}
}

// Provider describes the Telegram channel to Herald.
type Provider struct{}

// Name returns "telegram".
func (Provider) Name() string { return Name }

// Spec describes a Telegram destination's configuration.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_TELEGRAM_ENABLED",
		Fields: []channel.Field{
			{
				Name: "bot_token", Env: "NOTIFICATIONS_TELEGRAM_BOT_TOKEN", Secret: channel.Secret,
				Required: true, Tenant: true, Doc: "the bot's token from @BotFather, 123456789:AA…",
			},
			{
				Name: "chat_id", Env: "NOTIFICATIONS_TELEGRAM_CHAT_ID", Required: true, Tenant: true,
				Doc: "one chat the bot posts to: a number such as -1001234567890, or @channelname",
			},
			{
				Name: "api_url", Env: "NOTIFICATIONS_TELEGRAM_API_URL", Default: DefaultAPIURL,
				Doc: "Telegram's Bot API: a scheme and host, optionally a base path; Herald appends /bot<token>/sendMessage",
			},
		},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render renders Telegram messages in its HTML parse mode.
func (Provider) Render() *render.Profile { p := Profile(); return &p }

// PreviewConfig is a made-up bot and channel.
func (Provider) PreviewConfig() channel.Config {
	return &Config{BotToken: "123456789:AAPreviewPreviewPreviewPreviewPrev", ChatID: "@herald_preview"}
}

// New builds the Telegram sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) {
	return New(d.Client, d.Templates), nil
}

// Profile is how Telegram messages are rendered: the embedded templates, with event data
// escaped for HTML (HTML).
func Profile() render.Profile {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	return render.Profile{Channel: Name, Templates: sub, Markup: HTML}
}

// defaultTemplates are the embedded templates alone, for a Channel built without a Set.
var defaultTemplates = sync.OnceValue(func() *render.Set { return render.MustLoad(Profile()) })

// configOf returns the Telegram configuration of d.
func configOf(d channel.Destination) (*Config, error) {
	c, ok := d.Config.(*Config)
	if !ok || c == nil {
		return nil, fmt.Errorf("telegram: destination %s has no Telegram configuration", d)
	}
	return c, nil
}
