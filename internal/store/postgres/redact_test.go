package postgres

import (
	"errors"
	"strings"
	"testing"
)

func TestWrapMasksPassword(t *testing.T) {
	t.Parallel()
	cause := errors.New(`server said: password "hunter2" expired`)
	s := &Store{password: "hunter2"}
	err := s.wrap("ping postgres", cause)
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("wrap kept the password: %v", err)
	}
	if want := `ping postgres: server said: password "***" expired`; err.Error() != want {
		t.Errorf("wrap = %q, want %q", err, want)
	}
	if !errors.Is(err, cause) {
		t.Error("wrap lost the cause")
	}
	if got := (&Store{}).wrap("ping postgres", cause).Error(); got != "ping postgres: "+cause.Error() {
		t.Errorf("wrap without a password = %q", got)
	}
}
