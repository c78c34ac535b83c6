package slack

import (
	"fmt"
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
	u, err := channel.CheckWebhookURL(Name, raw)
	if err != nil {
		return err
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
