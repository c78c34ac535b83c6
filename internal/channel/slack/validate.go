package slack

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

// slackHost is where Slack serves incoming webhooks.
// https://api.slack.com/messaging/webhooks#create_a_webhook
const slackHost = "hooks.slack.com"

// Validate checks that d can receive Slack messages: a Slack configuration whose webhook URL
// is an absolute http or https URL with a path. A URL on hooks.slack.com must be Slack's
// shape, https://hooks.slack.com/services/T…/B…/…; other hosts (a proxy, a test fake) are only
// checked loosely. The error wraps channel.ErrInvalidDestination and a *channel.FieldError
// naming "webhook_url", and never contains the URL's token.
func (c *Channel) Validate(d channel.Destination) error {
	if d.Channel != "" && d.Channel != Name {
		return fmt.Errorf("%w: slack: destination is for channel %q", channel.ErrInvalidDestination, d.Channel)
	}
	cfg, err := configOf(d)
	if err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)
	}
	return nil
}

// checkURL applies Validate's URL rules. Its errors show the URL only through
// channel.RedactURL.
func checkURL(raw string) error {
	if raw == "" {
		return errors.New("slack: webhook url is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("slack: webhook url does not parse") // err would quote the URL
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("slack: webhook url %s: scheme must be https (or http)", channel.RedactURL(raw))
	case u.Host == "":
		return errors.New("slack: webhook url has no host")
	case u.User != nil:
		return fmt.Errorf("slack: webhook url %s: must not carry credentials", channel.RedactURL(raw))
	case strings.Trim(u.Path, "/") == "":
		return fmt.Errorf("slack: webhook url %s has no path", channel.RedactURL(raw))
	}
	if strings.EqualFold(u.Hostname(), slackHost) {
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if u.Scheme != "https" || len(parts) != 4 || parts[0] != "services" ||
			!strings.HasPrefix(parts[1], "T") || !strings.HasPrefix(parts[2], "B") || parts[3] == "" {
			return fmt.Errorf("slack: webhook url %s is not https://hooks.slack.com/services/T…/B…/…", channel.RedactURL(raw))
		}
	}
	return nil
}
