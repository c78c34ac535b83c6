// Package all wires every channel Herald ships into one registry. It is the only place that
// knows them all: adding a channel means writing its package under internal/channel/ and
// adding one line to Default.
package all

import (
	"fmt"
	"net/http"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook"
)

// Default returns a registry of every built-in channel, all sending through client (nil
// means channel.NewHTTPClient(channel.DefaultTimeout)).
func Default(client *http.Client) (*channel.Registry, error) {
	if client == nil {
		client = channel.NewHTTPClient(channel.DefaultTimeout)
	}
	r, err := channel.NewRegistry(
		webhook.New(client),
		// One line per channel, e.g. discord.New(client),
	)
	if err != nil {
		return nil, fmt.Errorf("register built-in channels: %w", err)
	}
	return r, nil
}
