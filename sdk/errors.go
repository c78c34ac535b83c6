package sdk

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoStream is returned (wrapped) by the Publisher when no JetStream stream answered for
// the event's subject: no stream captures <prefix>.events.>, or the stream had no leader
// for the whole publish timeout. Check the fleet's stream setup and the subject prefix.
var ErrNoStream = errors.New("no stream answered for the subject")

// ErrPublishTimeout is returned (wrapped, together with context.DeadlineExceeded where that
// is the cause) by the Publisher when the stream did not acknowledge an event within the
// publish timeout. The event may still have been stored: retry with the same event, and
// the stream's duplicate window drops the copy.
var ErrPublishTimeout = errors.New("no ack from the stream within the publish timeout")

// BatchError reports which events of [Publisher.PublishBatch] were not published.
type BatchError struct {
	// Errs has one entry per event of the batch, in the batch's order: nil for an event
	// that was published, the reason otherwise.
	Errs []error
}

// Failed returns how many events of the batch were not published.
func (e *BatchError) Failed() int {
	n := 0
	for _, err := range e.Errs {
		if err != nil {
			n++
		}
	}
	return n
}

// Error names how many events failed and the first failure.
func (e *BatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "publish batch: %d of %d events failed", e.Failed(), len(e.Errs))
	for i, err := range e.Errs {
		if err != nil {
			fmt.Fprintf(&b, "; first, event %d: %v", i, err)
			break
		}
	}
	return b.String()
}

// Unwrap returns the failures, so that errors.Is and errors.As look through them: for
// example errors.Is(err, ErrNoStream) is true when any event met no stream.
func (e *BatchError) Unwrap() []error {
	var errs []error
	for _, err := range e.Errs {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
