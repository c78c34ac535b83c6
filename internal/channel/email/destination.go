package email

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

const (
	// MaxRecipients is the most addresses one destination may list in To: Resend's limit
	// per email, applied to SMTP as well.
	// https://resend.com/docs/api-reference/emails/send-email
	MaxRecipients = 50
	// DefaultResendURL is Resend's API base.
	DefaultResendURL = "https://api.resend.com"
)

// TLS modes of an smtp:// destination, as its tls query parameter names them.
const (
	// TLSStartTLS upgrades the connection with STARTTLS before anything but EHLO is sent,
	// and refuses servers that do not offer it. The default except on port 465.
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (SMTPS). The default on port 465.
	TLSImplicit = "implicit"
	// TLSNone speaks clear text, credentials included: only for a relay on a loopback
	// address when a user is set.
	TLSNone = "none"
)

// transport is what a destination URL resolves to: Resend or SMTP.
type transport int

const (
	transportResend transport = iota + 1
	transportSMTP
)

// target is a validated destination, ready to send to.
type target struct {
	transport transport
	from      string   // as configured, validated
	fromAddr  string   // the bare address of from
	to        []string // as configured, validated

	// Resend.
	endpoint string // <base>/emails
	apiKey   string

	// SMTP.
	host     string
	port     int
	tlsMode  string
	user     string
	password string
}

// Validate checks that d can receive email: From is one RFC 5322 address, To lists one to
// MaxRecipients addresses, and URL is a Resend API base (http or https, with the API key in
// Secret) or an smtp:// URL (see the package documentation). The error wraps
// channel.ErrInvalidDestination as a *channel.FieldError naming "url", "secret", "from" or
// "to", and never contains the secret.
func (c *Channel) Validate(d channel.Destination) error {
	if _, err := parseTarget(d); err != nil {
		return err
	}
	return nil
}

// parseTarget validates d and resolves how to send to it.
func parseTarget(d channel.Destination) (*target, error) {
	if d.Channel != "" && d.Channel != Name {
		return nil, fmt.Errorf("%w: email: destination is for channel %q", channel.ErrInvalidDestination, d.Channel)
	}
	cfg, err := configOf(d)
	if err != nil {
		return nil, err
	}
	return cfg.target()
}

func invalid(field string, err error) error {
	return &channel.FieldError{Field: field, Err: fmt.Errorf("%w: %w", channel.ErrInvalidDestination, err)}
}

func (t *target) resend(u *url.URL, secret string) error {
	if u.Host == "" {
		return invalid("url", errors.New("email: resend url has no host"))
	}
	if u.User != nil {
		return invalid("url", errors.New("email: resend url must not carry credentials; put the API key in the secret"))
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return invalid("url", errors.New("email: resend url must be the API base, without query or fragment"))
	}
	if strings.TrimSpace(secret) == "" {
		return invalid("secret", errors.New("email: resend needs its API key as the secret"))
	}
	if strings.ContainsAny(secret, " \t\r\n") {
		return invalid("secret", errors.New("email: resend API key contains white space"))
	}
	t.transport = transportResend
	base := *u
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""
	t.endpoint = base.String() + "/emails"
	t.apiKey = secret
	return nil
}

func (t *target) smtp(u *url.URL, secret string) error {
	if u.Opaque != "" || u.Host == "" {
		return invalid("url", errors.New("email: smtp url must be smtp://[user@]host:port"))
	}
	if u.Path != "" && u.Path != "/" {
		return invalid("url", errors.New("email: smtp url must not have a path"))
	}
	if u.Fragment != "" {
		return invalid("url", errors.New("email: smtp url must not have a fragment"))
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return invalid("url", errors.New("email: smtp url must not carry a password; put it in the secret"))
		}
		t.user = u.User.Username()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return invalid("url", errors.New("email: smtp url query does not parse"))
	}
	for k := range q {
		if k != "tls" {
			return invalid("url", fmt.Errorf("email: smtp url: unknown parameter %q (only tls is known)", k))
		}
	}
	t.host = u.Hostname()
	if t.host == "" {
		return invalid("url", errors.New("email: smtp url has no host"))
	}
	mode := strings.ToLower(q.Get("tls"))
	switch mode {
	case "", TLSStartTLS, TLSImplicit, TLSNone:
	default:
		return invalid("url", fmt.Errorf("email: smtp url: tls=%q: want starttls, implicit or none", q.Get("tls")))
	}
	if p := u.Port(); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return invalid("url", fmt.Errorf("email: smtp url: port %q is not a number from 1 to 65535", p))
		}
		t.port = port
	}
	if mode == "" {
		mode = TLSStartTLS
		if t.port == 465 {
			mode = TLSImplicit
		}
	}
	if t.port == 0 {
		t.port = map[string]int{TLSStartTLS: 587, TLSImplicit: 465, TLSNone: 25}[mode]
	}
	t.tlsMode = mode

	switch {
	case t.user == "" && secret != "":
		return invalid("secret", errors.New("email: a password is set but the smtp url names no user (put it before the host, user@host)"))
	case t.user != "" && secret == "":
		return invalid("secret", errors.New("email: the smtp url names a user but the secret (its password) is empty"))
	case t.user != "" && mode == TLSNone && !isLoopback(t.host):
		return invalid("url", fmt.Errorf("email: smtp url: with TLS off the password would cross the network in clear text to %s; use STARTTLS or implicit TLS, or a relay on a loopback address", t.host))
	}
	t.password = secret
	t.transport = transportSMTP
	return nil
}

// isLoopback reports whether host is "localhost" or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkFrom accepts one RFC 5322 address and returns it trimmed, with its bare address.
func checkFrom(from string) (string, string, error) {
	from = strings.TrimSpace(from)
	if from == "" {
		return "", "", errors.New("email: from is required")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return "", "", fmt.Errorf("email: from %q is not an RFC 5322 address: %w", from, err)
	}
	return from, a.Address, nil
}

// checkTo accepts one to MaxRecipients RFC 5322 addresses and returns them trimmed.
func checkTo(to []string) ([]string, error) {
	if len(to) == 0 {
		return nil, errors.New("email: to needs at least one address")
	}
	if len(to) > MaxRecipients {
		return nil, fmt.Errorf("email: to lists %d addresses, at most %d allowed", len(to), MaxRecipients)
	}
	out := make([]string, len(to))
	for i, a := range to {
		a = strings.TrimSpace(a)
		if _, err := mail.ParseAddress(a); err != nil {
			return nil, fmt.Errorf("email: to[%d] %q is not an RFC 5322 address: %w", i, a, err)
		}
		out[i] = a
	}
	return out, nil
}
