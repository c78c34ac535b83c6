package channel

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/render"
)

// Base is what the channels that render a message and post it over HTTP to a paced
// provider share (Slack, Teams, PagerDuty, SMS): the client, which never follows redirects,
// the templates, and the pace of sends to one provider bucket. A channel embeds it and
// builds it with NewBase.
type Base struct {
	// Client sends the requests.
	Client *http.Client
	// Templates render the messages.
	Templates *render.Set
	// Every and Burst pace sends to one bucket: one per Every on average, Burst back to
	// back; Every 0 leaves sends unpaced.
	Every time.Duration
	Burst int
}

// NewBase returns the Base of a channel: a copy of client that never follows redirects (a
// nil client means NewHTTPClient(DefaultTimeout)), tpl or, when it is nil, the channel's
// embedded templates, and the channel's default pace.
func NewBase(client *http.Client, tpl *render.Set, embedded func() *render.Set, every time.Duration, burst int) Base {
	if tpl == nil {
		tpl = embedded()
	}
	return Base{Client: NoRedirects(client), Templates: tpl, Every: every, Burst: burst}
}

// SetPace sets the pace of sends to one bucket: every <= 0 leaves sends unpaced, and a burst
// is at least 1.
func (b *Base) SetPace(every time.Duration, burst int) {
	b.Every, b.Burst = max(every, 0), max(burst, 1)
}

// PaceOf returns the pace of the channel's bucket for credential (see HashedPace).
func (b *Base) PaceOf(channelName, credential string) Pace {
	return HashedPace(channelName, credential, b.Every, b.Burst)
}
