package webhook

import (
	"fmt"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// Config is a webhook destination: where to send, how to sign.
type Config struct {
	// URL is the endpoint, http or https.
	URL string `json:"url"`
	// Secret signs every request: one whsec_ secret, or several separated by spaces while
	// a secret rotates (each signs).
	Secret string `json:"secret"`
	// Method is POST (the default) or PUT.
	Method string `json:"method,omitempty"`
	// Headers are extra HTTP headers sent with every request.
	Headers map[string]string `json:"headers,omitempty"`
}

// Validate implements channel.Config: an absolute http or https URL, one or more valid
// whsec_ secrets, POST or PUT, and extra headers with valid names and values that do not
// replace the Content-Type, framing or webhook-* headers. Errors never contain the secret
// or the URL's token.
func (c *Config) Validate() error {
	if err := checkURL(c.URL); err != nil {
		return &channel.FieldError{Field: "url", Err: err}
	}
	if _, err := sdk.NewSigner(c.Secret); err != nil {
		return &channel.FieldError{Field: "secret", Err: fmt.Errorf("webhook: secret: %w", err)}
	}
	if _, err := methodOf(c.Method); err != nil {
		return &channel.FieldError{Field: "method", Err: err}
	}
	if err := checkHeaders(c.Headers); err != nil {
		return &channel.FieldError{Field: "headers", Err: err}
	}
	return nil
}

// Secrets implements channel.Config: the secrets, the header values, the URL's tokens.
func (c *Config) Secrets() []string {
	return channel.SecretsOf([]string{c.Secret}, c.Headers, c.URL)
}

// Destination returns a webhook destination named id that posts to url, signed with secret.
func Destination(id, url, secret string) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: &Config{URL: url, Secret: secret}}
}

// Provider describes the webhook channel to Herald.
type Provider struct{}

// Name returns "webhook".
func (Provider) Name() string { return Name }

// Spec describes a webhook destination's configuration.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_WEBHOOK_ENABLED",
		Fields: []channel.Field{
			{Name: "url", Env: "NOTIFICATIONS_WEBHOOK_URL", Secret: channel.SecretURL, Required: true, Tenant: true,
				Doc: "the endpoint, http or https"},
			{Name: "secret", Env: "NOTIFICATIONS_WEBHOOK_SECRET", Secret: channel.Secret, Required: true, Tenant: true,
				Doc: "the Standard Webhooks signing secret, whsec_…; several separated by spaces during a rotation"},
			{Name: "method", Env: "NOTIFICATIONS_WEBHOOK_METHOD", Tenant: true, Default: "POST", Doc: "POST or PUT"},
			{Name: "headers", Env: "NOTIFICATIONS_WEBHOOK_HEADERS", Kind: channel.Object, Secret: channel.Secret, Tenant: true,
				Doc: "extra HTTP headers, a JSON object"},
		},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render returns nil: a webhook carries the event exactly as published.
func (Provider) Render() *render.Profile { return nil }

// PreviewConfig is a made-up endpoint and secret.
func (Provider) PreviewConfig() channel.Config {
	return &Config{URL: "https://hooks.example.com/herald", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
}

// New builds the webhook sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) { return New(d.Client), nil }

// configOf returns the webhook configuration of d.
func configOf(d channel.Destination) (*Config, error) { return channel.ConfigOf[*Config](d) }
