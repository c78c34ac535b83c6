package channeltest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/sdk"
)

// NewClient returns the client channels send with (channel.NewHTTPClient) with a 5-second
// timeout, short enough to fail a test rather than hang it. Its idle connections are closed
// when the test ends, so that a goroutine leak check stays quiet.
func NewClient(t testing.TB) *http.Client {
	c := channel.NewHTTPClient(5 * time.Second)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// Build returns p's channel as the registry builds it (channel.Build), sending with
// NewClient's client and logging to logger (nil for none), and fails the test if p refuses
// to build.
func Build(t testing.TB, p channel.Provider, logger *slog.Logger) channel.Channel {
	t.Helper()
	ch, err := channel.Build(p, channel.Deps{Client: NewClient(t), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// Notify returns the first attempt at delivering ev to d, as the delivery loop makes it: its
// delivery id is "<event id>:<destination id>".
func Notify(d channel.Destination, ev *sdk.Event) channel.Notification {
	return channel.Notification{DeliveryID: ev.ID + ":" + d.ID, Attempt: 1, Event: ev, Destination: d}
}

// NotifyRaw is Notify with the event's JSON in Raw, as the delivery loop passes it on, for
// channels that send or show the event as it was published.
func NotifyRaw(t testing.TB, d channel.Destination, ev *sdk.Event) channel.Notification {
	t.Helper()
	raw, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	n := Notify(d, ev)
	n.Raw = raw
	return n
}

// Sample returns Notify of render sample i for d, counting i modulo the number of samples, so
// that a loop may send each of them, or more.
func Sample(d channel.Destination, i int) channel.Notification {
	samples := render.Samples()
	return Notify(d, samples[i%len(samples)])
}

// SampleOf returns the render sample of type typ, failing the test if there is none.
func SampleOf(t testing.TB, typ string) *sdk.Event {
	t.Helper()
	for _, ev := range render.Samples() {
		if ev.Type == typ {
			return ev
		}
	}
	t.Fatalf("no render sample of type %s", typ)
	return nil
}
