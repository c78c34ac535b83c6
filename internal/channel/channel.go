package channel

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// Destination is one place a channel delivers to: an operator's configured endpoint or a
// tenant's own. Its configuration is the channel's own typed one (see Provider); its secrets
// never leave the process: String shows none, and Secrets lists them for masking.
type Destination struct {
	// ID names the destination; it is part of every delivery id.
	ID string `json:"id"`
	// Channel is the channel that delivers to it ("webhook", "discord", ...).
	Channel string `json:"channel"`
	// Tenant owns the destination; empty for the operator's.
	Tenant string `json:"tenant,omitempty"`
	// Config is the channel's configuration of the destination, such as *slack.Config.
	Config Config `json:"config,omitempty"`
}

// String names the destination; it never shows its configuration.
func (d Destination) String() string {
	if d.Tenant != "" {
		return d.Channel + "/" + d.Tenant + "/" + d.ID
	}
	return d.Channel + "/" + d.ID
}

// Notification is one delivery of one event to one destination.
type Notification struct {
	// DeliveryID is stable across retries and redeliveries: "<event id>:<destination id>".
	// Receivers deduplicate on it.
	DeliveryID string
	// Attempt counts from 1.
	Attempt int
	// Event is the decoded event.
	Event *sdk.Event
	// Raw is the event exactly as it was published.
	Raw []byte
	// Destination is where it goes.
	Destination Destination
}

// Kind is what became of one send.
type Kind int

// The outcomes of a send.
const (
	// Delivered: the provider accepted the notification.
	Delivered Kind = iota + 1
	// Retry: a transient failure; try again after a backoff (or RetryAfter, if set).
	Retry
	// Permanent: the provider refused the notification and would refuse it again.
	Permanent
)

// String returns the kind's lower-case name, as used in logs and metric labels.
func (k Kind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	}
	return "unknown"
}

// Outcome is the typed result of Channel.Send.
type Outcome struct {
	// Kind says what the delivery loop does next: Ack, NakWithDelay or dead-letter.
	Kind Kind
	// Reason explains a Retry or Permanent outcome. It must never contain a secret.
	Reason string
	// RetryAfter is the provider's requested wait (Retry-After and the like); zero if none.
	RetryAfter time.Duration
	// StatusCode is the provider's HTTP status, if there was a response.
	StatusCode int
	// Pause asks the worker to hold every send that shares this destination's pace key
	// (see Pacer) for this long, whatever the outcome: the provider said its rate-limit
	// bucket is empty (Discord's X-RateLimit-Remaining: 0 with X-RateLimit-Reset-After, a
	// 429's Retry-After). Zero if the provider said nothing.
	Pause time.Duration
}

// Sent reports a delivered notification.
func Sent(status int) Outcome { return Outcome{Kind: Delivered, StatusCode: status} }

// RetryLater reports a transient failure.
func RetryLater(status int, after time.Duration, reason string) Outcome {
	return Outcome{Kind: Retry, StatusCode: status, RetryAfter: after, Reason: reason}
}

// Fail reports a permanent failure.
func Fail(status int, reason string) Outcome {
	return Outcome{Kind: Permanent, StatusCode: status, Reason: reason}
}

// ErrInvalidDestination is wrapped by every Channel.Validate error, so that configuration
// loaders can tell a bad destination from other failures with errors.Is.
var ErrInvalidDestination = errors.New("invalid destination")

// Channel delivers notifications to one kind of destination.
//
// Send is called concurrently from many goroutines. It must honour ctx (a cancelled context
// ends the send and yields a Retry outcome) and must not retry by itself: retries are
// scheduled by JetStream. Reasons in the outcome must be free of secrets.
type Channel interface {
	// Name is the channel's name, as used in subjects and configuration ("webhook").
	Name() string
	// Validate checks that a destination is usable by this channel. Its error wraps
	// ErrInvalidDestination and never contains a secret. Send does not require a prior
	// Validate: given a destination that would fail it, Send returns a Permanent outcome.
	Validate(Destination) error
	// Send delivers one notification.
	Send(ctx context.Context, n Notification) Outcome
}

// FieldError says which field of a Destination is invalid ("url", "secret", "method",
// "headers", "to", ...), so that configuration errors can name the variable behind it.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// Pace is how fast the worker may send to one provider rate-limit bucket.
type Pace struct {
	// Key names the bucket. Destinations with the same key share one limiter (every
	// destination using one Resend API key, say). The key stays in memory and is never
	// logged, but must not be a secret itself: derive it from a hash of one.
	Key string
	// Every is the mean interval between sends. Zero means unpaced.
	Every time.Duration
	// Burst is how many sends may go back to back after a quiet spell (at least 1).
	Burst int
}

// Pacer is implemented by channels whose providers limit the request rate per destination
// (a Discord webhook, a Slack incoming webhook, a Resend API key). The worker waits for the
// pace before a send takes one of its slots, so a busy destination never holds up the others.
type Pacer interface {
	Pace(Destination) Pace
}

// Preview is what a channel would send for a notification, without sending it.
type Preview struct {
	// ContentType is the media type of Body ("application/json", "message/rfc822").
	ContentType string
	// Body is exactly what Send would send: the request body, or the whole email message.
	Body []byte
	// Subject is an email's subject line; empty for other channels.
	Subject string
	// HTML is an email's HTML part; empty for other channels.
	HTML string
	// Text is the plain-text part of an email, or the notification's plain-text fallback.
	Text string
}

// Previewer is implemented by channels that render notifications (every channel but the
// webhook, whose body is the event itself). Preview fails for an event its templates cannot
// render, with the same error Send would report.
type Previewer interface {
	Preview(n Notification) (Preview, error)
}

// LogSend records one send at debug level on log, without secrets: the destination (its URL
// masked), the delivery, the outcome and how long the send took. Every channel calls it from
// Send with the outcome it returns, already redacted.
func LogSend(ctx context.Context, log *slog.Logger, n Notification, o Outcome, start time.Time) {
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	log.LogAttrs(ctx, slog.LevelDebug, "send",
		slog.String("destination", n.Destination.String()),
		slog.String("delivery_id", n.DeliveryID),
		slog.Int("attempt", n.Attempt),
		slog.String("outcome", o.Kind.String()),
		slog.Int("status", o.StatusCode),
		slog.String("reason", o.Reason),
		slog.Duration("retry_after", o.RetryAfter),
		slog.Duration("pause", o.Pause),
		slog.Duration("duration", time.Since(start)),
	)
}
