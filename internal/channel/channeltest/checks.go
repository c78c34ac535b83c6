package channeltest

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
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
