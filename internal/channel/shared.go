package channel

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// ErrNoEvent is a channel's error for a notification without a decoded event to render.
var ErrNoEvent = errors.New("notification has no event")

// RenderEvent renders e with tpl for the channel named channelName, the first step of every
// channel that renders: its errors start with the channel's name and say which event type
// did not render.
func RenderEvent(tpl *render.Set, channelName string, e *sdk.Event) (*render.Message, error) {
	if e == nil {
		return nil, fmt.Errorf("%s: %w", channelName, ErrNoEvent)
	}
	m, err := tpl.Render(channelName, e)
	if err != nil {
		return nil, fmt.Errorf("%s: render %s: %w", channelName, e.Type, err)
	}
	return m, nil
}

// HashedPace is the pace of a destination known by a credential (a webhook URL, an API key,
// a bot token and chat): its key is the channel's name and a short hash of the credential, so
// that destinations sharing one share a pace and no key reveals it. One send per every on
// average, burst back to back; every <= 0 leaves the destination unpaced.
func HashedPace(channelName, credential string, every time.Duration, burst int) Pace {
	sum := sha256.Sum256([]byte(credential))
	return Pace{Key: channelName + ":" + hex.EncodeToString(sum[:8]), Every: max(every, 0), Burst: max(burst, 1)}
}

// CheckWebhookURL checks a provider's webhook URL the way every webhook-style channel does
// before its own rules: it parses, is http or https, has a host and a path and carries no
// credentials. Its errors start with the channel's name and show the URL only through
// RedactURL, since its path or query is the token.
func CheckWebhookURL(channelName, raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("%s: webhook url is required", channelName)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: webhook url does not parse", channelName) // err would quote the URL
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("%s: webhook url %s: scheme must be https (or http)", channelName, RedactURL(raw))
	case u.Host == "":
		return nil, fmt.Errorf("%s: webhook url has no host", channelName)
	case u.User != nil:
		return nil, fmt.Errorf("%s: webhook url %s: must not carry credentials", channelName, RedactURL(raw))
	case strings.Trim(u.Path, "/") == "":
		return nil, fmt.Errorf("%s: webhook url %s has no path", channelName, RedactURL(raw))
	}
	return u, nil
}
