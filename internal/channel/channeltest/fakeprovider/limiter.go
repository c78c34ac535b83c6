package fakeprovider

import (
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket per key: each key (a webhook, an account, a routing key, a chat)
// takes one request per every on average and burst back to back, the shape in which
// providers document their limits. A fake registers a key with Add when it creates it, so
// that a new key starts with a full bucket, and calls Take for each request it would accept.
type Limiter struct {
	every time.Duration
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
}

// bucket is one key's state: the tokens it had at last.
type bucket struct {
	tokens float64
	last   time.Time
}

// NewLimiter returns a limiter of one request per every, burst back to back (at least 1).
// every <= 0 means no limit: Take always grants.
func NewLimiter(every time.Duration, burst int) *Limiter {
	return &Limiter{every: every, burst: max(burst, 1), buckets: make(map[string]*bucket)}
}

// Add gives key a full bucket as of now, replacing any it had.
func (l *Limiter) Add(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buckets[key] = &bucket{tokens: float64(l.burst), last: now}
}

// Take spends one of key's tokens at now and returns 0, or, when the bucket is empty,
// spends nothing and returns how long until a token is available. A key never added starts
// with a full bucket.
func (l *Limiter) Take(key string, now time.Time) time.Duration {
	if l.every <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: float64(l.burst), last: now}
		l.buckets[key] = b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(l.burst), b.tokens+float64(elapsed)/float64(l.every))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration((1 - b.tokens) * float64(l.every))
}

// RetryAfter returns wait in the whole seconds of a Retry-After header: rounded up, and at
// least 1, so that a client told to wait does wait.
// https://www.rfc-editor.org/rfc/rfc9110#name-retry-after
func RetryAfter(wait time.Duration) int {
	return max(int(math.Ceil(wait.Seconds())), 1)
}
