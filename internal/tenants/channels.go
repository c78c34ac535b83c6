package tenants

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

// Channels is what tenant destinations need of Herald's channels: each channel's spec, the
// operator's configuration of it (whose credentials a tenant's configuration is merged
// with), and two senders per channel, the operator's and one whose HTTP requests dial
// through the SSRF guard.
type Channels struct {
	// Operator holds the senders of the operator's destinations.
	Operator *channel.Registry
	// Guarded holds the same channels built with the SSRF-guarded HTTP client (see
	// all.Guarded).
	Guarded *channel.Registry
	// OperatorConfigs is the operator's configuration of each channel it enabled, by
	// channel name: the source of the fields a tenant may not set.
	OperatorConfigs map[string]channel.Config
}

// OperatorConfigsOf indexes the operator's destinations by channel; the first of a channel
// wins.
func OperatorConfigsOf(dests []channel.Destination) map[string]channel.Config {
	out := map[string]channel.Config{}
	for _, d := range dests {
		if _, ok := out[d.Channel]; !ok && d.Config != nil {
			out[d.Channel] = d.Config
		}
	}
	return out
}

func (c *Channels) spec(name string) (channel.Spec, bool) {
	p, ok := c.Operator.Provider(name)
	if !ok {
		return channel.Spec{}, false
	}
	return p.Spec(), true
}

// decode merges a tenant's configuration of a channel with the operator's and validates it.
func (c *Channels) decode(name string, raw json.RawMessage) (channel.Config, error) {
	spec, ok := c.spec(name)
	if !ok {
		return nil, fmt.Errorf("%w %q", channel.ErrUnknownChannel, name)
	}
	return channel.DecodeTenantConfig(spec, c.OperatorConfigs[name], raw)
}

// Sender returns the sender of a channel for tenant destinations: the guarded one when a
// tenant chooses where its requests go (a webhook's url, a Slack webhook_url), the
// operator's when the host is the operator's (Twilio, PagerDuty, Telegram, Resend or the
// operator's SMTP server, whose API URLs a tenant cannot set and which the operator may
// well run internally).
func (c *Channels) Sender(name string) (channel.Channel, bool) {
	spec, ok := c.spec(name)
	if !ok {
		return nil, false
	}
	if TenantChoosesHost(spec) {
		return c.Guarded.Get(name)
	}
	return c.Operator.Get(name)
}

// TenantChoosesHost reports whether a tenant's configuration of the channel names the host
// its requests go to: a tenant field that is a URL.
func TenantChoosesHost(spec channel.Spec) bool {
	for _, f := range spec.Fields {
		if f.Tenant && (f.Secret == channel.SecretURL || f.Name == "url" || strings.HasSuffix(f.Name, "_url")) {
			return true
		}
	}
	return false
}

// urlFields lists the tenant fields of a spec that hold URLs: they must be http or https.
func urlFields(spec channel.Spec) []string {
	var out []string
	for _, f := range spec.Fields {
		if f.Tenant && f.Kind == channel.Text && (f.Secret == channel.SecretURL || f.Name == "url" || strings.HasSuffix(f.Name, "_url")) {
			out = append(out, f.Name)
		}
	}
	return out
}
