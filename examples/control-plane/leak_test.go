package main

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind, such as a launch that
// outlived Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Helpers of nats-server and net/http that end shortly after Close.
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}
