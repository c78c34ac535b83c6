package sms

import (
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"sync"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

//go:embed templates
var templates embed.FS

// DefaultAPIURL is Twilio's REST API, to which Herald appends the Messages path.
// https://www.twilio.com/docs/usage/requests-to-twilio
const DefaultAPIURL = "https://api.twilio.com"

// Config is an SMS destination: the numbers to text, and the operator's Twilio account that
// sends. A tenant's config sets only To; the other fields are the operator's.
type Config struct {
	// AccountSID is the Twilio Account SID, AC followed by 32 hexadecimal digits.
	AccountSID string `json:"account_sid"`
	// AuthToken is the account's Auth Token, the password of HTTP basic auth.
	AuthToken string `json:"auth_token"`
	// From is the account's sender number, in E.164 (+15005550006).
	From string `json:"from"`
	// To are the recipients, in E.164; each gets its own message.
	To []string `json:"to"`
	// APIURL is Twilio's scheme and host, with an optional base path. Defaults to
	// DefaultAPIURL.
	APIURL string `json:"api_url,omitempty"`
}

// Validate implements channel.Config: see checkConfig.
func (c *Config) Validate() error { return checkConfig(c) }

// Secrets implements channel.Config: the auth token, and the basic credentials that carry it
// (a receiver that echoes the Authorization header would show them).
func (c *Config) Secrets() []string {
	if c.AuthToken == "" {
		return nil
	}
	return channel.SecretsOf([]string{c.AuthToken, basicCredentials(c.AccountSID, c.AuthToken)}, nil)
}

// basicCredentials is the base64 of "sid:token", as the Authorization header carries it.
func basicCredentials(sid, token string) string {
	return base64.StdEncoding.EncodeToString([]byte(sid + ":" + token))
}

// apiURL returns the configured API URL or the default.
func (c *Config) apiURL() string {
	if c.APIURL == "" {
		return DefaultAPIURL
	}
	return c.APIURL
}

// Destination returns an SMS destination named id that texts to from the account sid,
// authenticated with token, through the API at apiURL ("" for Twilio's own).
func Destination(id, apiURL, sid, token, from string, to ...string) channel.Destination {
	return channel.Destination{ID: id, Channel: Name, Config: &Config{
		AccountSID: sid, AuthToken: token, From: from, To: to, APIURL: apiURL,
	}}
}

// Provider describes the SMS channel to Herald.
type Provider struct{}

// Name returns "sms".
func (Provider) Name() string { return Name }

// Spec describes an SMS destination's configuration. Only "to" is a tenant's to set; the
// account, its token, the sender number and the API URL are the operator's.
func (Provider) Spec() channel.Spec {
	return channel.Spec{
		EnabledVar: "NOTIFICATIONS_SMS_ENABLED",
		Fields: []channel.Field{
			{Name: "account_sid", Env: "NOTIFICATIONS_TWILIO_ACCOUNT_SID", Required: true,
				Doc: "the Twilio Account SID, AC followed by 32 hexadecimal digits"},
			{Name: "auth_token", Env: "NOTIFICATIONS_TWILIO_AUTH_TOKEN", Secret: channel.Secret, Required: true,
				Doc: "the Twilio account's Auth Token"},
			{Name: "from", Env: "NOTIFICATIONS_TWILIO_FROM", Required: true,
				Doc: "the account's sender number, in E.164 (+15005550006)"},
			{Name: "to", Env: "NOTIFICATIONS_SMS_TO", Kind: channel.List, Required: true, Tenant: true,
				Doc: fmt.Sprintf(`the recipients, a JSON array of 1 to %d E.164 numbers, e.g. ["+14155550100"]; each gets its own message`, MaxRecipients)},
			{Name: "api_url", Env: "NOTIFICATIONS_TWILIO_API_URL", Default: DefaultAPIURL,
				Doc: "Twilio's API: a scheme and host, optionally a base path; Herald appends /2010-04-01/Accounts/{sid}/Messages.json"},
		},
		NewConfig: func() channel.Config { return &Config{} },
	}
}

// Render renders SMS text: plain text, no markup.
func (Provider) Render() *render.Profile { p := Profile(); return &p }

// PreviewConfig is a made-up account, with Twilio's magic test numbers.
// https://www.twilio.com/docs/iam/test-credentials#test-sms-messages-parameters-From
func (Provider) PreviewConfig() channel.Config {
	return &Config{
		AccountSID: "AC00000000000000000000000000000000", AuthToken: "previewAuthToken0000000000000000",
		From: "+15005550006", To: []string{"+14155550100"},
	}
}

// New builds the SMS sender.
func (Provider) New(d channel.Deps) (channel.Channel, error) {
	return New(d.Client, d.Templates), nil
}

// Profile is how SMS text is rendered: the embedded templates, plain text.
func Profile() render.Profile {
	sub, err := fs.Sub(templates, "templates")
	if err != nil {
		panic(err) // the embedded directory exists: a build error otherwise
	}
	return render.Profile{Channel: Name, Templates: sub, Markup: render.PlainText}
}

// defaultTemplates are the embedded templates alone, for a Channel built without a Set.
var defaultTemplates = sync.OnceValue(func() *render.Set { return render.MustLoad(Profile()) })

// configOf returns the SMS configuration of d.
func configOf(d channel.Destination) (*Config, error) {
	c, ok := d.Config.(*Config)
	if !ok || c == nil {
		return nil, fmt.Errorf("sms: destination %s has no SMS configuration", d)
	}
	return c, nil
}
