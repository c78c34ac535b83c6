package delivery

import (
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
)

// HeaderAttemptBase is set on a redriven delivery: the attempts it had made before it was
// dead-lettered. A redrive gives the delivery a fresh budget of attempts under the same
// delivery id, and the worker numbers the new attempts after the old ones (base+1, base+2,
// ...), so that the ledger, which keeps one row per (delivery, attempt) and lets the
// highest attempt decide a delivery's status, records them instead of taking them for
// copies of the first life's attempts.
const HeaderAttemptBase = "Herald-Attempt-Base"

// attemptBase returns the delivery's HeaderAttemptBase, 0 for a delivery never redriven.
func attemptBase(msg jetstream.Msg) int {
	v := msg.Headers().Get(HeaderAttemptBase)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0
	}
	return n
}
