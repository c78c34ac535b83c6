package channeltest

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// CheckValidate checks a channel's verdict on a destination, as each channel's table of
// valid and invalid destinations does. With field empty, Validate must accept d. Otherwise
// Validate must refuse d with ErrInvalidDestination and a FieldError naming field, and
// sending to d must end Permanent, as the Channel contract says; neither the error nor the
// outcome's reason may hold secret (unless secret is empty). It returns Validate's error for
// a channel's own further checks.
func CheckValidate(t testing.TB, ch channel.Channel, d channel.Destination, field, secret string) error {
	t.Helper()
	err := ch.Validate(d)
	if field == "" {
		if err != nil {
			t.Fatalf("Validate = %v, want nil", err)
		}
		return err
	}
	var fe *channel.FieldError
	if !errors.Is(err, channel.ErrInvalidDestination) || !errors.As(err, &fe) || fe.Field != field {
		t.Fatalf("Validate = %v, want ErrInvalidDestination with a %s FieldError", err, field)
		return err
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Fatalf("error %q leaks a secret", err)
	}
	if o := ch.Send(t.Context(), Sample(d, 0)); o.Kind != channel.Permanent || (secret != "" && strings.Contains(o.Reason, secret)) {
		t.Fatalf("Send to an invalid destination = %+v, want permanent without the secret", o)
	}
	return err
}

// CheckNoSecrets fails the test if text, which the failure calls what ("reason"), holds any
// of secrets; empty ones are skipped.
func CheckNoSecrets(t testing.TB, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s %q leaks %q", what, text, s)
		}
	}
}

// PreviewChannel is a channel that shows what it would send.
type PreviewChannel interface {
	channel.Channel
	channel.Previewer
}

// CheckPreviewIsWhatSendPosts previews, then sends, each render sample to d, and fails the
// test unless each is delivered and each preview's body, of contentType, is exactly what the
// provider's fake took: posted returns the body the fake took last, in the form a preview
// shows it (with its secrets masked, say). check, when not nil, adds a channel's own checks
// of each preview. Last, a notification without an event must not preview.
func CheckPreviewIsWhatSendPosts(t testing.TB, ch PreviewChannel, d channel.Destination, contentType string,
	posted func() []byte, check func(n channel.Notification, pv channel.Preview)) {
	t.Helper()
	for i := range render.Samples() {
		n := Sample(d, i)
		pv, err := ch.Preview(n)
		if err != nil {
			t.Fatal(err)
		}
		if o := ch.Send(t.Context(), n); o.Kind != channel.Delivered {
			t.Fatalf("send: %+v", o)
		}
		if got := posted(); string(got) != string(pv.Body) || pv.ContentType != contentType {
			t.Fatalf("%s: preview (%s) differs from the posted body:\n%s\n%s", n.Event.Type, pv.ContentType, pv.Body, got)
		}
		if check != nil {
			check(n, pv)
		}
	}
	if _, err := ch.Preview(channel.Notification{Destination: d}); err == nil {
		t.Error("Preview of a notification without an event succeeded")
	}
}

// SendPastLimit sends two samples to d, through a provider (or its fake) that takes one at a
// time, and fails the test unless the first is delivered and the second is refused with 429
// and to be retried. It returns the second outcome, for a channel's checks of how long it
// waits.
func SendPastLimit(t testing.TB, ch channel.Channel, d channel.Destination) channel.Outcome {
	t.Helper()
	if o := ch.Send(t.Context(), Sample(d, 0)); o.Kind != channel.Delivered {
		t.Fatalf("first send: %+v, want delivered", o)
	}
	o := ch.Send(t.Context(), Sample(d, 1))
	if o.Kind != channel.Retry || o.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("second send: %+v, want retry 429", o)
	}
	return o
}
