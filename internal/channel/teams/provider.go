package teams

import (
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

//go:embed templates
var templates embed.FS

// Config is a Teams destination: a Workflows webhook, the URL of a Power Automate flow
// started by "When a Teams webhook request is received".
type Config struct {
	// WebhookURL is the workflow's URL, such as
	// https://prod-00.westus.logic.azure.com:443/workflows/<id>/triggers/manual/paths/invoke?api-version=2016-06-01&sp=…&sv=1.0&sig=…;
	// its sig query parameter is its credential.
	WebhookURL string `json:"webhook_url"`
}

// Validate implements channel.Config: see checkURL.
func (c *Config) Validate() error {
	if err := checkURL(c.WebhookURL); err != nil {
		return &channel.FieldError{Field: "webhook_url", Err: err}
	}
	return nil
}

// Secrets implements channel.Config: the workflow's signature, escaped and not, and its whole
// query string. A URL without a sig parameter (a proxy, a test fake) is masked as
// channel.SecretsOf masks any token-bearing URL.
func (c *Config) Secrets() []string {
	u, err := url.Parse(c.WebhookURL)
	if err != nil || u.RawQuery == "" {
		return channel.SecretsOf(nil, nil, c.WebhookURL)
	}
	sigs := u.Query()[sigParam]
	if len(sigs) == 0 {
		return channel.SecretsOf(nil, nil, c.WebhookURL)
	}
	out := []string{u.RawQuery}
	for _, s := range sigs {
		for _, v := range []string{s, url.QueryEscape(s)} {
			if len(v) >= minSecretLen && !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	return out
}

// minSecretLen is the shortest signature worth masking; real ones are 43 characters.
const minSecretLen = 6

// Destination returns a Teams destination named id that posts to a workflow's webhookURL.
func Destination(id, webhookURL string) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: &Config{WebhookURL: webhookURL}}
}

// Provider describes the Teams channel to Herald.
type Provider struct{}

// Name returns "teams".
func (Provider) Name() string { return Name }

// Spec describes a Teams destination's configuration.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_TEAMS_ENABLED",
		Fields: []channel.Field{{
			Name: "webhook_url", Env: "NOTIFICATIONS_TEAMS_WEBHOOK_URL", Secret: channel.SecretURL,
			Required: true, Tenant: true,
			Doc: "the URL of a Workflows webhook (a flow started by \"When a Teams webhook request is received\"), " +
				"https://….logic.azure.com:443/workflows/<id>/triggers/manual/paths/invoke?…&sig=…",
		}},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render renders Adaptive Card text in the card's markdown subset.
func (Provider) Render() *render.Profile { p := Profile(); return &p }

// PreviewConfig is a made-up workflow URL.
func (Provider) PreviewConfig() channel.Config {
	return &Config{WebhookURL: "https://prod-00.westus.logic.azure.com:443/workflows/0000preview/triggers/manual/paths/invoke" +
		"?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=previewpreviewpreview"}
}

// New builds the Teams sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) {
	return New(d.Client, d.Templates), nil
}

// Profile is how Teams messages are rendered: the embedded templates, with event data
// escaped for Adaptive Card markdown (Markdown).
func Profile() render.Profile {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	return render.Profile{Channel: Name, Templates: sub, Markup: Markdown}
}

// defaultTemplates are the embedded templates alone, for a Channel built without a Set.
var defaultTemplates = sync.OnceValue(func() *render.Set { return render.MustLoad(Profile()) })

// configOf returns the Teams configuration of d.
func configOf(d channel.Destination) (*Config, error) {
	c, ok := d.Config.(*Config)
	if !ok || c == nil {
		return nil, fmt.Errorf("teams: destination %s has no Teams configuration", d)
	}
	return c, nil
}
