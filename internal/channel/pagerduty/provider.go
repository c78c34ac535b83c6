package pagerduty

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

//go:embed templates
var templates embed.FS

// DefaultAPIURL is PagerDuty's Events API, to which Herald appends /v2/enqueue.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
const DefaultAPIURL = "https://events.pagerduty.com"

// RoutingKeyLen is the length of an Events API v2 routing key (an integration key).
// https://developer.pagerduty.com/docs/events-api-v2/overview/
const RoutingKeyLen = 32

// Config is a PagerDuty destination: an Events API v2 integration of a service.
type Config struct {
	// RoutingKey is the integration key: 32 letters and digits. It is a secret: whoever
	// holds it can open incidents.
	RoutingKey string `json:"routing_key"`
	// APIURL is the Events API's scheme and host, with an optional base path. Defaults to
	// DefaultAPIURL.
	APIURL string `json:"api_url,omitempty"`
}

// Validate implements channel.Config: a routing key of 32 letters and digits, and an API URL
// that is absolute http or https without credentials, query or fragment. Errors are
// *channel.FieldError naming the field and never contain the key.
func (c *Config) Validate() error {
	fieldErr := func(field string, err error) error {
		return &channel.FieldError{Field: field, Err: fmt.Errorf("%w: pagerduty: %w", channel.ErrConfig, err)}
	}
	switch {
	case c.RoutingKey == "":
		return fieldErr("routing_key", errors.New("routing_key is required"))
	case len(c.RoutingKey) != RoutingKeyLen || strings.IndexFunc(c.RoutingKey, func(r rune) bool { return !isAlnum(r) }) >= 0:
		return fieldErr("routing_key", fmt.Errorf("routing_key must be %d letters and digits (the integration key of an Events API v2 integration)", RoutingKeyLen))
	}
	if err := checkAPIURL(c.APIURL); err != nil {
		return fieldErr("api_url", err)
	}
	return nil
}

// Secrets implements channel.Config: the routing key.
func (c *Config) Secrets() []string { return channel.SecretsOf([]string{c.RoutingKey}, nil) }

// apiURL returns the configured API URL or the default.
func (c *Config) apiURL() string {
	if c.APIURL == "" {
		return DefaultAPIURL
	}
	return c.APIURL
}

func isAlnum(r rune) bool {
	return ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')
}

// checkAPIURL accepts "" (the default) or an absolute http or https URL with a host and an
// optional base path, without credentials, query or fragment: Herald appends /v2/enqueue.
func checkAPIURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("api_url does not parse")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("api_url: scheme must be https (or http)")
	case u.Host == "":
		return errors.New("api_url has no host")
	case u.User != nil:
		return errors.New("api_url must not carry credentials")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("api_url must not have a query or fragment")
	}
	return nil
}

// Destination returns a PagerDuty destination named id that sends to the integration of
// routingKey through the API at apiURL ("" for PagerDuty's own).
func Destination(id, apiURL, routingKey string) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: &Config{RoutingKey: routingKey, APIURL: apiURL}}
}

// Provider describes the PagerDuty channel to Herald.
type Provider struct{}

// Name returns "pagerduty".
func (Provider) Name() string { return Name }

// Spec describes a PagerDuty destination's configuration: the routing key is a tenant's to
// set, the API URL the operator's.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_PAGERDUTY_ENABLED",
		Fields: []channel.Field{
			{Name: "routing_key", Env: "NOTIFICATIONS_PAGERDUTY_ROUTING_KEY", Secret: channel.Secret, Required: true, Tenant: true,
				Doc: "the integration key of an Events API v2 integration, 32 letters and digits"},
			{Name: "api_url", Env: "NOTIFICATIONS_PAGERDUTY_API_URL", Default: DefaultAPIURL,
				Doc: "PagerDuty's Events API: a scheme and host, optionally a base path; Herald appends /v2/enqueue"},
		},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render renders alert text: plain text, no markup.
func (Provider) Render() *render.Profile { p := Profile(); return &p }

// PreviewConfig is a made-up integration.
func (Provider) PreviewConfig() channel.Config {
	return &Config{RoutingKey: "R0PREVIEW0000000000000000000000X"}
}

// New builds the PagerDuty sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) {
	return New(d.Client, d.Templates), nil
}

// Profile is how PagerDuty alerts are rendered: the embedded templates, plain text.
func Profile() render.Profile {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	return render.Profile{Channel: Name, Templates: sub, Markup: render.PlainText}
}

// defaultTemplates are the embedded templates alone, for a Channel built without a Set.
var defaultTemplates = sync.OnceValue(func() *render.Set { return render.MustLoad(Profile()) })

// configOf returns the PagerDuty configuration of d.
func configOf(d channel.Destination) (*Config, error) {
	c, ok := d.Config.(*Config)
	if !ok || c == nil {
		return nil, fmt.Errorf("pagerduty: destination %s has no PagerDuty configuration", d)
	}
	return c, nil
}
