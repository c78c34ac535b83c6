// Package all wires every channel Herald ships into one registry. It is the only place that
// knows them all: adding a channel means writing its package under internal/channel/ and
// adding one line to Default.
package all

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/discord"
	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/channel/slack"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/render"
)

// Default returns a registry of every built-in channel, all sending through client (nil
// means channel.NewHTTPClient(channel.DefaultTimeout)), rendering with templates (nil means
// the embedded ones) and logging sends at debug level to log (nil discards).
func Default(client *http.Client, templates *render.Set, log *slog.Logger) (*channel.Registry, error) {
	if client == nil {
		client = channel.NewHTTPClient(channel.DefaultTimeout)
	}
	if templates == nil {
		templates = render.Default()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r, err := channel.NewRegistry(
		webhook.New(client, webhook.WithLogger(log)),
		discord.New(client, templates, discord.WithLogger(log)),
		slack.New(client, templates, slack.WithLogger(log)),
		email.New(client, templates, email.WithLogger(log)),
	)
	if err != nil {
		return nil, fmt.Errorf("register built-in channels: %w", err)
	}
	return r, nil
}
