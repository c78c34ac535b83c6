package delivery

import (
	"math/rand/v2"
	"time"
)

// Backoff computes the delay before a retry: the configured delays in order, then doubling
// the last, each with ±20% jitter so that deliveries failed together do not return together,
// and capped at Max. A provider's Retry-After wins over the schedule, within the cap.
type Backoff struct {
	// Delays are the waits before the first, second, ... retry. Defaults to 5s,10s,20s,40s,80s.
	Delays []time.Duration
	// Max caps every delay. Defaults to 5m.
	Max time.Duration
	// Jitter is the random spread as a fraction of the delay. Defaults to 0.2.
	Jitter float64
}

// Delay returns the wait after the failed attempt number attempt (counting from 1).
func (b Backoff) Delay(attempt int, retryAfter time.Duration) time.Duration {
	maxDelay := b.Max
	if maxDelay <= 0 {
		maxDelay = 5 * time.Minute
	}
	if retryAfter > 0 {
		return min(retryAfter, maxDelay)
	}
	delays := b.Delays
	if len(delays) == 0 {
		delays = []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second}
	}
	var d time.Duration
	if i := attempt - 1; i < len(delays) {
		d = delays[max(i, 0)]
	} else {
		d = delays[len(delays)-1]
		for range min(i-len(delays)+1, 30) {
			d *= 2
			if d >= maxDelay {
				break
			}
		}
	}
	jitter := b.Jitter
	if jitter == 0 {
		jitter = 0.2
	}
	d = time.Duration(float64(d) * (1 - jitter + 2*jitter*rand.Float64()))
	return min(d, maxDelay)
}
