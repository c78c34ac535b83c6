// Package all registers Herald's built-in channels: one line per channel, in Providers.
// Configuration, rendering, the preview command and the documentation tests iterate the
// providers listed here instead of naming channels.
package all

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/discord"
	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/channel/pagerduty"
	"github.com/heraldhq/herald/internal/channel/slack"
	"github.com/heraldhq/herald/internal/channel/sms"
	"github.com/heraldhq/herald/internal/channel/teams"
	"github.com/heraldhq/herald/internal/channel/telegram"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/render"
)

// Providers returns every built-in channel's provider, in the order of the documentation.
func Providers() []channel.Provider {
	return []channel.Provider{
		webhook.Provider{},
		discord.Provider{},
		slack.Provider{},
		email.Provider{},
		sms.Provider{},
		pagerduty.Provider{},
		teams.Provider{},
		telegram.Provider{},
	}
}

// Profiles returns the render profiles of the providers that render.
func Profiles(providers []channel.Provider) []render.Profile {
	var out []render.Profile
	for _, p := range providers {
		if prof := p.Render(); prof != nil {
			out = append(out, *prof)
		}
	}
	return out
}

// Templates loads every built-in channel's templates, with an operator's directory of
// overrides (empty for none).
func Templates(dir string) (*render.Set, error) { return render.Load(dir, Profiles(Providers())...) }

// Default builds the registry of the built-in channels: they send with client (nil means
// channel.NewHTTPClient(channel.DefaultTimeout)), render with templates (nil means
// Templates("")), and log each send at debug level to log (nil discards).
func Default(client *http.Client, templates *render.Set, log *slog.Logger) (*channel.Registry, error) {
	if templates == nil {
		var err error
		if templates, err = Templates(""); err != nil {
			return nil, err
		}
	}
	r, err := channel.NewRegistry(channel.Deps{Client: client, Templates: templates, Logger: log}, Providers()...)
	if err != nil {
		return nil, fmt.Errorf("register built-in channels: %w", err)
	}
	return r, nil
}
