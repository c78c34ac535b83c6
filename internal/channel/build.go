package channel

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// Build builds p's sender with deps (a nil Client is NewHTTPClient(DefaultTimeout), a nil
// Logger discards) and wraps it with what every channel's Send shares, once for all: the
// outcome's reason is masked with the destination's Secrets, and the send is logged at debug
// level with its duration. A channel's own Send therefore need not mask or log.
func Build(p Provider, deps Deps) (Channel, error) {
	if deps.Client == nil {
		deps.Client = NewHTTPClient(DefaultTimeout)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	deps.Logger = deps.Logger.With("channel", p.Name())
	ch, err := p.New(deps)
	if err != nil {
		return nil, fmt.Errorf("build channel %s: %w", p.Name(), err)
	}
	if ch.Name() != p.Name() {
		return nil, fmt.Errorf("build channel %s: its sender is named %q", p.Name(), ch.Name())
	}
	return Instrument(ch, deps.Logger), nil
}

// Instrument wraps ch as Build does: reasons masked with the destination's Secrets, sends
// logged at debug level on log. Build calls it; tests of a channel built with options of its
// own call it to run the channel as Herald does.
func Instrument(ch Channel, log *slog.Logger) Channel {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &instrumented{Channel: ch, log: log}
}

// instrumented is a channel wrapped by Build.
type instrumented struct {
	Channel
	log *slog.Logger
}

// Send sends through the wrapped channel, masks the reason and logs the send.
func (i *instrumented) Send(ctx context.Context, n Notification) Outcome {
	start := time.Now()
	o := i.Channel.Send(ctx, n)
	if o.Reason != "" {
		o = o.Redacted(n.Destination.Secrets()...)
	}
	LogSend(ctx, i.log, n, o, start)
	return o
}

// Unwrap returns the channel's own sender.
func (i *instrumented) Unwrap() Channel { return i.Channel }

// As finds in ch, or in the channels it wraps (see Build), one that implements T, such as
// Pacer or Previewer.
func As[T any](ch Channel) (T, bool) {
	for ch != nil {
		if t, ok := ch.(T); ok {
			return t, true
		}
		u, ok := ch.(interface{ Unwrap() Channel })
		if !ok {
			break
		}
		ch = u.Unwrap()
	}
	var zero T
	return zero, false
}
