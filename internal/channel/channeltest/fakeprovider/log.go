package fakeprovider

import (
	"sync"
	"testing"
	"time"
)

// Log records what a fake did with each request it answered: accepted (an A, such as the
// message it took) or rejected (an R, with the reason). It wakes the goroutines waiting in
// WaitFor on every record. The zero value is not usable; call NewLog.
type Log[A, R any] struct {
	fake, noun string

	mu       sync.Mutex
	accepted []A
	rejected []R
	changed  chan struct{} // closed and replaced on every record
}

// NewLog returns an empty log. fake names the fake and noun what it accepts, for the
// message of a WaitFor that times out: "slacktest: timed out after 1s with 2 of 3 messages
// (1 rejected)".
func NewLog[A, R any](fake, noun string) *Log[A, R] {
	return &Log[A, R]{fake: fake, noun: noun, changed: make(chan struct{})}
}

// Accept records an accepted request, wakes the waiters, and returns how many requests have
// been accepted, this one included: its number, for a fake that numbers what it accepts.
func (l *Log[A, R]) Accept(a A) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.accepted = append(l.accepted, a)
	l.wake()
	return len(l.accepted)
}

// Reject records a refused request and wakes the waiters.
func (l *Log[A, R]) Reject(r R) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rejected = append(l.rejected, r)
	l.wake()
}

// wake closes the channel the waiters hold and gives the next ones a fresh one. l.mu is held.
func (l *Log[A, R]) wake() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// Accepted returns a copy of the accepted requests, in arrival order.
func (l *Log[A, R]) Accepted() []A {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]A(nil), l.accepted...)
}

// Rejected returns a copy of the refused requests, in arrival order.
func (l *Log[A, R]) Rejected() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]R(nil), l.rejected...)
}

// Requests returns how many requests were recorded. A fake records every request it answers,
// once, as accepted or as rejected, so this is how many it answered.
func (l *Log[A, R]) Requests() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.accepted) + len(l.rejected)
}

// WaitFor waits until at least n requests have been accepted and returns the accepted ones,
// failing the test if that has not happened within timeout; the failure says how many were
// accepted and how many rejected. It wakes on every record rather than polling.
func (l *Log[A, R]) WaitFor(t testing.TB, n int, timeout time.Duration) []A {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		l.mu.Lock()
		got, rejected, changed := len(l.accepted), len(l.rejected), l.changed
		if got >= n {
			out := append([]A(nil), l.accepted...)
			l.mu.Unlock()
			return out
		}
		l.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("%s: timed out after %s with %d of %d %s (%d rejected)", l.fake, timeout, got, n, l.noun, rejected)
			return nil
		}
	}
}
