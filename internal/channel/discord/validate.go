package discord

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

// ProductionHosts are the hosts that serve Discord's webhooks. Validate accepts any host
// unless WithAllowedHosts narrows it (tests use a loopback fake); a deployment that lets
// tenants enter Discord URLs should narrow it to these, so that a "Discord" destination cannot
// point Herald at an internal service.
// https://discord.com/developers/docs/reference#api-reference-base-url
var ProductionHosts = []string{
	"discord.com", "ptb.discord.com", "canary.discord.com",
	"discordapp.com", "ptb.discordapp.com", "canary.discordapp.com",
}

// webhookPath matches an execute-webhook path, /api/webhooks/{id}/{token}, optionally with an
// API version (/api/v10/webhooks/...). The id is a snowflake, a decimal uint64; the token is
// URL-safe base64-like text.
// https://discord.com/developers/docs/resources/webhook#execute-webhook
// https://discord.com/developers/docs/reference#api-versioning
var webhookPath = regexp.MustCompile(`^/api(?:/v[0-9]{1,3})?/webhooks/([0-9]{1,20})/([A-Za-z0-9_-]{1,256})$`)

// errURLShape is what a wrong path gets told, without repeating the path (it may hold the
// token).
var errURLShape = errors.New("discord: url must be a webhook URL of the form https://discord.com/api/webhooks/<id>/<token>")

// Validate checks that d is a Discord webhook: an absolute http or https URL without user
// info, whose path is /api/webhooks/{id}/{token} or /api/v<N>/webhooks/{id}/{token}, on an
// allowed host (any, unless WithAllowedHosts says otherwise). The error wraps
// channel.ErrInvalidDestination and a *channel.FieldError for "webhook_url", and never
// contains the token.
func (c *Channel) Validate(d channel.Destination) error {
	if err := c.validate(d); err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	return nil
}

func (c *Channel) validate(d channel.Destination) error {
	if d.Channel != "" && d.Channel != Name {
		return fmt.Errorf("discord: destination is for channel %q", d.Channel)
	}
	cfg, err := configOf(d)
	if err != nil {
		return err
	}
	if _, err := parseURL(cfg.WebhookURL, c.hosts); err != nil {
		return &channel.FieldError{Field: "webhook_url", Err: err}
	}
	return nil
}

// target is a validated webhook URL.
type target struct {
	url *url.URL
	id  string
}

// parseURL checks a webhook URL and returns it with its webhook id. Errors quote the URL
// only through channel.RedactURL.
func parseURL(raw string, hosts []string) (target, error) {
	if raw == "" {
		return target{}, errors.New("discord: url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, errors.New("discord: url does not parse") // err quotes the URL
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return target{}, fmt.Errorf("discord: url %s: scheme must be https (or http)", channel.RedactURL(raw))
	case u.Host == "":
		return target{}, errors.New("discord: url has no host")
	case u.User != nil:
		return target{}, fmt.Errorf("discord: url %s: must not carry user info", channel.RedactURL(raw))
	case u.RawPath != "" || u.Fragment != "":
		return target{}, errURLShape
	}
	if len(hosts) > 0 && !slices.Contains(hosts, strings.ToLower(u.Hostname())) {
		return target{}, fmt.Errorf("discord: url host %q is not a Discord host (allowed: %s)", u.Hostname(), strings.Join(hosts, ", "))
	}
	m := webhookPath.FindStringSubmatch(u.Path)
	if m == nil {
		return target{}, errURLShape
	}
	return target{url: u, id: m[1]}, nil
}
