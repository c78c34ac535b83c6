// Package testutil holds the test infrastructure every package shares: an embedded NATS
// JetStream server, a throwaway PostgreSQL, and helpers that wait on conditions instead of
// sleeping.
package testutil

import (
	"testing"
	"time"
)

// WaitFor polls cond every 10 ms until it returns true, failing the test with msg if it does
// not within timeout.
func WaitFor(t testing.TB, timeout time.Duration, msg string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, msg)
		}
		<-tick.C
	}
}
