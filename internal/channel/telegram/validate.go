package telegram

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

var (
	// tokenPattern is a bot token as @BotFather issues it: the bot's id, a colon, and the
	// secret in the URL-safe base64 alphabet. A token must not hold '/', '?' or '#': it goes
	// into the request path. https://core.telegram.org/bots/api#authorizing-your-bot
	tokenPattern = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{20,100}$`)
	// usernamePattern is a public channel's @username: 5 to 32 letters, digits and
	// underscores, starting with a letter. https://core.telegram.org/bots/api#sendmessage
	usernamePattern = regexp.MustCompile(`^@[A-Za-z][A-Za-z0-9_]{4,31}$`)
)

// Validate checks that d can receive Telegram messages: a Telegram configuration with a bot
// token of @BotFather's shape, one chat id (a whole number or an @username) and, if set, an
// http or https API URL without a query. The error wraps channel.ErrInvalidDestination and a
// *channel.FieldError naming the field, and never contains the token.
func (c *Channel) Validate(d channel.Destination) error {
	if d.Channel != "" && d.Channel != Name {
		return fmt.Errorf("%w: telegram: destination is for channel %q", channel.ErrInvalidDestination, d.Channel)
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

// checkConfig applies Validate's rules. Its errors are *channel.FieldError and quote neither
// the token nor the API URL's credentials.
func checkConfig(c *Config) error {
	field := func(name, format string, args ...any) error {
		return &channel.FieldError{Field: name, Err: fmt.Errorf("%w: telegram: "+format, append([]any{channel.ErrConfig}, args...)...)}
	}
	switch {
	case c.BotToken == "":
		return field("bot_token", "bot token is required")
	case !tokenPattern.MatchString(c.BotToken):
		return field("bot_token", "bot token is not of the form <bot id>:<secret> that @BotFather issues")
	case c.ChatID == "":
		return field("chat_id", "chat id is required")
	case strings.HasPrefix(c.ChatID, "@"):
		if !usernamePattern.MatchString(c.ChatID) {
			return field("chat_id", "chat id %q is not an @username of 5 to 32 letters, digits and underscores", c.ChatID)
		}
	default:
		if n, err := strconv.ParseInt(c.ChatID, 10, 64); err != nil || n == 0 {
			return field("chat_id", "chat id %q is neither a whole number (such as -1001234567890) nor an @channelname", c.ChatID)
		}
	}
	if c.APIURL == "" {
		return nil
	}
	u, err := url.Parse(c.APIURL)
	switch {
	case err != nil:
		return field("api_url", "api url does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return field("api_url", "api url %s: scheme must be https (or http)", channel.RedactURL(c.APIURL))
	case u.Host == "":
		return field("api_url", "api url %s has no host", channel.RedactURL(c.APIURL))
	case u.RawQuery != "" || u.Fragment != "":
		return field("api_url", "api url %s: must have no query or fragment: Herald appends the path", channel.RedactURL(c.APIURL))
	}
	return nil
}
