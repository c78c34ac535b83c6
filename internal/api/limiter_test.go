package api

import (
	"fmt"
	"testing"
	"time"
)

// TestFailureLimiterForgets checks that the limiter forgets addresses whose allowance is
// whole again, so that its memory follows the set of recently failing addresses.
func TestFailureLimiterForgets(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := newFailureLimiter(1, 3, func() time.Time { return now })
	for i := range 50 {
		l.fail(fmt.Sprintf("192.0.2.%d", i))
	}
	for range 3 {
		l.fail("198.51.100.7")
	}
	if err := l.check("198.51.100.7"); err == nil {
		t.Error("an address that failed its whole burst is not refused")
	}
	if err := l.check("192.0.2.1"); err != nil {
		t.Errorf("an address with failures left is refused: %v", err)
	}
	now = now.Add(2 * time.Minute)
	l.fail("203.0.113.9") // sweeps
	if n := len(l.clients); n != 1 {
		t.Errorf("%d addresses remembered after they all recovered, want 1 (the new one)", n)
	}
	if err := l.check("198.51.100.7"); err != nil {
		t.Errorf("a recovered address is refused: %v", err)
	}
}
