package delivery

import (
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/channel"
)

// idleBuckets is how long a bucket may go unused before the pacer forgets it. It is far
// longer than any pace or provider pause, so forgetting one never lets a burst through early.
const idleBuckets = 10 * time.Minute

// Pacer spaces the sends to each provider rate-limit bucket (a channel.Pace key) with the
// generic cell rate algorithm: after a quiet spell Burst sends may go at once, then one
// every Every. A provider's own word (Outcome.Pause) holds the bucket until the time it
// names. Deliveries wait for their turn without holding a send slot, so one busy destination
// never holds up the others. The zero Pacer is ready to use and safe for concurrent use.
type Pacer struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	tat    time.Time // theoretical arrival time of the next send
	paused time.Time // no send before this
	used   time.Time
}

// Reserve books the next send to p's bucket and returns when it may go: now, or later if the
// bucket is spent or paused. An unpaced p (no interval) waits only for a pause.
func (pc *Pacer) Reserve(p channel.Pace, now time.Time) time.Time {
	if p.Key == "" {
		return now
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if p.Every <= 0 {
		// Unpaced, but the provider may have paused it.
		if b, ok := pc.buckets[p.Key]; ok {
			return later(now, b.paused)
		}
		return now
	}
	tolerance := time.Duration(max(p.Burst, 1)-1) * p.Every
	b := pc.bucket(p.Key, now)
	at := later(now, b.tat.Add(-tolerance), b.paused)
	b.tat = later(b.tat, at).Add(p.Every)
	return at
}

// Pause holds p's bucket until until: sends reserved before it that come due earlier must
// reserve again (see Paused), and later ones start after it, without a burst.
func (pc *Pacer) Pause(p channel.Pace, until time.Time, now time.Time) {
	if p.Key == "" {
		return
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	b := pc.bucket(p.Key, now)
	if until.After(b.paused) {
		b.paused = until
	}
	tolerance := time.Duration(max(p.Burst, 1)-1) * p.Every
	b.tat = later(b.tat, until.Add(tolerance))
}

// Paused reports whether p's bucket is paused at now, so that a send reserved before the
// pause began reserves again rather than going out into the provider's limit.
func (pc *Pacer) Paused(p channel.Pace, now time.Time) bool {
	if p.Key == "" {
		return false
	}
	pc.mu.Lock()
	defer pc.mu.Unlock()
	b, ok := pc.buckets[p.Key]
	return ok && now.Before(b.paused)
}

// bucket returns key's bucket, creating it, and now and then forgets buckets long idle.
// The caller holds pc.mu.
func (pc *Pacer) bucket(key string, now time.Time) *bucket {
	if pc.buckets == nil {
		pc.buckets = make(map[string]*bucket)
	}
	if now.Sub(pc.swept) > idleBuckets {
		for k, b := range pc.buckets {
			if now.Sub(b.used) > idleBuckets && now.After(b.tat) && now.After(b.paused) {
				delete(pc.buckets, k)
			}
		}
		pc.swept = now
	}
	b, ok := pc.buckets[key]
	if !ok {
		b = &bucket{tat: now}
		pc.buckets[key] = b
	}
	b.used = now
	return b
}

func later(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.After(t) {
			t = u
		}
	}
	return t
}
