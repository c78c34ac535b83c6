package discord

import (
	goembed "embed"
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

//go:embed templates
var templates goembed.FS

// Config is a Discord destination: a channel's webhook.
type Config struct {
	// WebhookURL is the webhook, https://discord.com/api/webhooks/<id>/<token>.
	WebhookURL string `json:"webhook_url"`
}

// Validate implements channel.Config: the URL is a webhook URL on any host (a Channel built
// WithAllowedHosts narrows the hosts when it validates a destination).
func (c *Config) Validate() error {
	if _, err := parseURL(c.WebhookURL, nil); err != nil {
		return &channel.FieldError{Field: "webhook_url", Err: err}
	}
	return nil
}

// Secrets implements channel.Config: the webhook URL's token.
func (c *Config) Secrets() []string { return channel.SecretsOf(nil, nil, c.WebhookURL) }

// Destination returns a Discord destination named id that posts to webhookURL.
func Destination(id, webhookURL string) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: &Config{WebhookURL: webhookURL}}
}

// Provider describes the Discord channel to Herald.
type Provider struct{}

// Name returns "discord".
func (Provider) Name() string { return Name }

// Spec describes a Discord destination's configuration.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_DISCORD_ENABLED",
		Fields: []channel.Field{{
			Name: "webhook_url", Env: "NOTIFICATIONS_DISCORD_WEBHOOK_URL", Secret: channel.SecretURL,
			Required: true, Tenant: true, Doc: "the channel webhook URL, https://discord.com/api/webhooks/<id>/<token>",
		}},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render renders embeds in Discord's markdown.
func (Provider) Render() *render.Profile { p := Profile(); return &p }

// PreviewConfig is a made-up webhook.
func (Provider) PreviewConfig() channel.Config {
	return &Config{WebhookURL: "https://discord.com/api/webhooks/1/preview"}
}

// New builds the Discord sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) { return New(d.Client, d.Templates), nil }

// Profile is how Discord messages are rendered: the embedded templates, Discord's markdown.
func Profile() render.Profile {
	return channel.EmbeddedProfile(Name, templates, "templates", render.DiscordMarkdown, false)
}

// defaultTemplates are the embedded templates alone, for a Channel built without a Set.
var defaultTemplates = sync.OnceValue(func() *render.Set { return render.MustLoad(Profile()) })

// configOf returns the discord configuration of d.
func configOf(d channel.Destination) (*Config, error) { return channel.ConfigOf[*Config](d) }
