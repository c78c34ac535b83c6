package sms

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/heraldhq/herald/internal/channel"
)

// MaxRecipients bounds the numbers of one destination. Each gets its own request, one after
// the other within one send, so the bound keeps a send well inside the delivery's ack wait.
const MaxRecipients = 10

// e164 is an E.164 number: a plus sign, then 8 to 15 digits, the first not zero.
// https://www.twilio.com/docs/glossary/what-e164
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// accountSID is a Twilio Account SID: "AC" and 32 hexadecimal digits.
// https://www.twilio.com/docs/glossary/what-is-a-sid
var accountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

// Validate checks that d can receive SMS: an SMS configuration that checkConfig accepts. The
// error wraps channel.ErrInvalidDestination and a *channel.FieldError naming the field, and
// never contains the auth token.
func (c *Channel) Validate(d channel.Destination) error {
	if d.Channel != "" && d.Channel != Name {
		return fmt.Errorf("%w: sms: destination is for channel %q", channel.ErrInvalidDestination, d.Channel)
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

// checkConfig checks every field: an Account SID, an auth token of printable characters, a
// sender and 1 to MaxRecipients distinct recipients in E.164 (none of them the sender), and an
// absolute http or https API URL without credentials, query or fragment. Each error is a
// *channel.FieldError naming the JSON field.
func checkConfig(c *Config) error {
	fieldErr := func(field, format string, args ...any) error {
		return &channel.FieldError{Field: field, Err: fmt.Errorf("%w: sms: "+format, append([]any{channel.ErrConfig}, args...)...)}
	}
	switch {
	case c.AccountSID == "":
		return fieldErr("account_sid", "account_sid is required")
	case !accountSID.MatchString(c.AccountSID):
		return fieldErr("account_sid", "account_sid must be AC followed by 32 hexadecimal digits")
	case c.AuthToken == "":
		return fieldErr("auth_token", "auth_token is required")
	case strings.IndexFunc(c.AuthToken, func(r rune) bool { return r > unicode.MaxASCII || !unicode.IsGraphic(r) || r == ' ' }) >= 0:
		return fieldErr("auth_token", "auth_token must be printable ASCII without spaces")
	case c.From == "":
		return fieldErr("from", "from is required")
	case !e164.MatchString(c.From):
		return fieldErr("from", "from %q is not an E.164 number (+ then 8 to 15 digits)", c.From)
	case len(c.To) == 0:
		return fieldErr("to", "to needs at least one number")
	case len(c.To) > MaxRecipients:
		return fieldErr("to", "to has %d numbers, more than %d", len(c.To), MaxRecipients)
	}
	for i, to := range c.To {
		switch {
		case !e164.MatchString(to):
			return fieldErr("to", "to[%d] %q is not an E.164 number (+ then 8 to 15 digits)", i, to)
		case to == c.From:
			return fieldErr("to", "to[%d] %s is the sender's own number", i, to)
		case slices.Index(c.To, to) < i:
			return fieldErr("to", "to[%d] %s is listed twice", i, to)
		}
	}
	if err := checkAPIURL(c.APIURL); err != nil {
		return &channel.FieldError{Field: "api_url", Err: fmt.Errorf("%w: sms: %w", channel.ErrConfig, err)}
	}
	return nil
}

// checkAPIURL accepts "" (the default) or an absolute http or https URL with a host and an
// optional base path, without credentials, query or fragment: Herald appends the Messages
// path to it.
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
