package email

import (
	"embed"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

//go:embed templates
var templates embed.FS

// Providers of the email channel.
const (
	ProviderResend = "resend"
	ProviderSMTP   = "smtp"
)

// Config is an email destination: the recipients, and how the mail leaves, through Resend's
// API or an SMTP server. A tenant sets only the recipients; the sender and the transport are
// the operator's.
type Config struct {
	// To lists the recipients (at most MaxRecipients).
	To []string `json:"to"`
	// From is the sender, "Name <address>" or an address.
	From string `json:"from,omitempty"`
	// Provider is resend (the default) or smtp.
	Provider string `json:"provider,omitempty"`
	// ResendAPIKey is Resend's API key.
	ResendAPIKey string `json:"resend_api_key,omitempty"`
	// ResendAPIURL is Resend's API base. Defaults to DefaultResendURL.
	ResendAPIURL string `json:"resend_api_url,omitempty"`
	// SMTPHost and SMTPPort are the SMTP server. The port defaults to 587.
	SMTPHost string `json:"smtp_host,omitempty"`
	SMTPPort int    `json:"smtp_port,omitempty"`
	// SMTPTLS is starttls (the default; implicit on port 465), implicit or none.
	SMTPTLS string `json:"smtp_tls,omitempty"`
	// SMTPUsername and SMTPPassword authenticate, when a username is set.
	SMTPUsername string `json:"smtp_username,omitempty"`
	SMTPPassword string `json:"smtp_password,omitempty"`
}

// Validate implements channel.Config. Errors name the field and never contain the API key
// or the password.
func (c *Config) Validate() error {
	_, err := c.target()
	return err
}

// Secrets implements channel.Config: the API key, the password, and any credential in the
// Resend URL.
func (c *Config) Secrets() []string {
	s := channel.SecretsOf([]string{c.ResendAPIKey, c.SMTPPassword}, nil, c.ResendAPIURL)
	if c.SMTPPassword != "" && !contains(s, c.SMTPPassword) {
		s = append(s, c.SMTPPassword) // a password, however short
	}
	return s
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// target validates the configuration and resolves how to send.
func (c *Config) target() (*target, error) {
	t := &target{}
	var err error
	if t.from, t.fromAddr, err = checkFrom(c.From); err != nil {
		return nil, invalid("from", err)
	}
	if t.to, err = checkTo(c.To); err != nil {
		return nil, invalid("to", err)
	}
	switch strings.ToLower(c.Provider) {
	case "", ProviderResend:
		raw := c.ResendAPIURL
		if raw == "" {
			raw = DefaultResendURL
		}
		u, perr := url.Parse(raw)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, invalid("resend_api_url", fmt.Errorf("email: resend api url %s must be an http or https URL", channel.RedactURL(raw)))
		}
		err = renamed(t.resend(u, c.ResendAPIKey), map[string]string{"url": "resend_api_url", "secret": "resend_api_key"})
	case ProviderSMTP:
		if c.SMTPHost == "" {
			return nil, invalid("smtp_host", errors.New("email: smtp host is required"))
		}
		port := c.SMTPPort
		if port == 0 {
			port = 587
		}
		if port < 1 || port > 65535 {
			return nil, invalid("smtp_port", fmt.Errorf("email: %d is not a TCP port", port))
		}
		mode := strings.ToLower(c.SMTPTLS)
		if mode == "" {
			mode = TLSStartTLS
			if port == 465 {
				mode = TLSImplicit
			}
		}
		u := &url.URL{Scheme: "smtp", Host: net.JoinHostPort(c.SMTPHost, strconv.Itoa(port)),
			RawQuery: url.Values{"tls": {mode}}.Encode()}
		if c.SMTPUsername != "" {
			u.User = url.User(c.SMTPUsername)
		}
		err = renamed(t.smtp(u, c.SMTPPassword), map[string]string{"url": "smtp_host", "secret": "smtp_password"})
		if err != nil && strings.Contains(strings.ToLower(err.Error()), "tls") {
			err = renamed(err, map[string]string{"smtp_host": "smtp_tls"})
		}
	default:
		return nil, invalid("provider", fmt.Errorf("email: provider %q is not resend or smtp", c.Provider))
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// renamed gives a FieldError of the old transport URL's fields its configuration field name.
func renamed(err error, names map[string]string) error {
	var fe *channel.FieldError
	if errors.As(err, &fe) {
		if n, ok := names[fe.Field]; ok {
			fe.Field = n
		}
	}
	return err
}

// Destination returns an email destination named id from cfg.
func Destination(id string, cfg *Config) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: cfg}
}

// Provider describes the email channel to Herald.
type Provider struct{}

// Name returns "email".
func (Provider) Name() string { return Name }

// Spec describes an email destination's configuration.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_EMAIL_ENABLED",
		Fields: []channel.Field{
			{Name: "to", Env: "NOTIFICATIONS_EMAIL_TO", Kind: channel.List, Required: true, Tenant: true,
				Doc: "the recipients, a JSON array of addresses"},
			{Name: "from", Env: "NOTIFICATIONS_EMAIL_FROM", Required: true, Doc: "the sender, Name <address>"},
			{Name: "provider", Env: "NOTIFICATIONS_EMAIL_PROVIDER", Default: ProviderResend, Doc: "resend or smtp"},
			{Name: "resend_api_key", Env: "NOTIFICATIONS_RESEND_API_KEY", Secret: channel.Secret, Doc: "Resend's API key"},
			{Name: "resend_api_url", Env: "NOTIFICATIONS_RESEND_API_URL", Default: DefaultResendURL, Doc: "Resend's API base"},
			{Name: "smtp_host", Env: "NOTIFICATIONS_SMTP_HOST", Doc: "the SMTP server's host"},
			{Name: "smtp_port", Env: "NOTIFICATIONS_SMTP_PORT", Kind: channel.Number, Doc: "the SMTP server's port, 587 by default"},
			{Name: "smtp_tls", Env: "NOTIFICATIONS_SMTP_TLS", Doc: "starttls (implicit on port 465), implicit or none"},
			{Name: "smtp_username", Env: "NOTIFICATIONS_SMTP_USERNAME", Doc: "the SMTP user, for AUTH"},
			{Name: "smtp_password", Env: "NOTIFICATIONS_SMTP_PASSWORD", Secret: channel.Secret, Doc: "the SMTP password"},
		},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render renders an HTML and a text part from the layouts.
func (Provider) Render() *render.Profile { p := Profile(); return &p }

// PreviewConfig is a made-up Resend account.
func (Provider) PreviewConfig() channel.Config {
	return &Config{From: "Herald <alerts@example.com>", To: []string{"ops@example.com"}, ResendAPIKey: "re_preview"}
}

// New builds the email sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) { return New(d.Client, d.Templates), nil }

// Profile is how emails are rendered: the embedded templates and layouts, plain text.
func Profile() render.Profile {
	return channel.EmbeddedProfile(Name, templates, "templates", render.PlainText, true)
}

// defaultTemplates are the embedded templates alone, for a Channel built without a Set.
var defaultTemplates = sync.OnceValue(func() *render.Set { return render.MustLoad(Profile()) })

// configOf returns the email configuration of d.
func configOf(d channel.Destination) (*Config, error) { return channel.ConfigOf[*Config](d) }
