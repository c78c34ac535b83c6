package slack

import (
	"embed"
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

//go:embed templates
var templates embed.FS

// Config is a Slack destination: an incoming webhook.
type Config struct {
	// WebhookURL is the incoming webhook, https://hooks.slack.com/services/T…/B…/…; its
	// path is its token.
	WebhookURL string `json:"webhook_url"`
}

// Validate implements channel.Config: see checkURL.
func (c *Config) Validate() error {
	if err := checkURL(c.WebhookURL); err != nil {
		return &channel.FieldError{Field: "webhook_url", Err: err}
	}
	return nil
}

// Secrets implements channel.Config: the webhook URL's token.
func (c *Config) Secrets() []string { return channel.SecretsOf(nil, nil, c.WebhookURL) }

// Destination returns a Slack destination named id that posts to webhookURL.
func Destination(id, webhookURL string) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: &Config{WebhookURL: webhookURL}}
}

// Provider describes the Slack channel to Herald.
type Provider struct{}

// Name returns "slack".
func (Provider) Name() string { return Name }

// Spec describes a Slack destination's configuration.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_SLACK_ENABLED",
		Fields: []channel.Field{{
			Name: "webhook_url", Env: "NOTIFICATIONS_SLACK_WEBHOOK_URL", Secret: channel.SecretURL,
			Required: true, Tenant: true, Doc: "the incoming webhook URL, https://hooks.slack.com/services/T…/B…/…",
		}},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render renders Block Kit text in Slack's mrkdwn.
func (Provider) Render() *render.Profile { p := Profile(); return &p }

// PreviewConfig is a made-up incoming webhook.
func (Provider) PreviewConfig() channel.Config {
	return &Config{WebhookURL: "https://hooks.slack.com/services/T0/B0/preview"}
}

// New builds the Slack sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) {
	return New(d.Client, d.Templates), nil
}

// Profile is how Slack messages are rendered: the embedded templates, mrkdwn escaping.
func Profile() render.Profile {
	return channel.EmbeddedProfile(Name, templates, "templates", render.SlackMrkdwn, false)
}

// defaultTemplates are the embedded templates alone, for a Channel built without a Set.
var defaultTemplates = sync.OnceValue(func() *render.Set { return render.MustLoad(Profile()) })

// configOf returns the slack configuration of d.
func configOf(d channel.Destination) (*Config, error) { return channel.ConfigOf[*Config](d) }
