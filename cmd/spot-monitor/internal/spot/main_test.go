package spot_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: a monitor that outlives
// its context, or a connection nobody closed.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Helpers of nats-server and net/http that end shortly after Close.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}
