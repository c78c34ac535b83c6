package sms

import (
	"sync"
	"time"
)

const (
	// sentTTL is how long the channel remembers who got a delivery: the dispatcher's
	// idempotency window, longer than any retry schedule.
	sentTTL = 24 * time.Hour
	// maxSent bounds the deliveries remembered; the oldest are forgotten first.
	maxSent = 20_000
)

// sentLog remembers, for each delivery, the recipients Twilio has accepted a message for, so
// that a retry or a redrive of a delivery that reached some of its recipients texts only the
// others. Twilio's Messages API takes no idempotency key, so this is what keeps a retry from
// texting someone twice. It lives in the process: a retry that another worker process picks
// up, or one after a restart, texts everyone again, which at-least-once delivery allows. It
// is safe for concurrent use.
type sentLog struct {
	now func() time.Time

	mu    sync.Mutex
	byID  map[string]*sentEntry
	order []string // delivery ids by first acceptance, oldest first; expiry follows it
	head  int      // order[:head] are forgotten
}

// sentEntry is one delivery's accepted recipients.
type sentEntry struct {
	to      map[string]struct{}
	expires time.Time
}

func newSentLog(now func() time.Time) *sentLog {
	return &sentLog{now: now, byID: make(map[string]*sentEntry)}
}

// has reports whether a message of the delivery was accepted for the number.
func (l *sentLog) has(delivery, to string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.byID[delivery]
	if e == nil || !l.now().Before(e.expires) {
		return false
	}
	_, ok := e.to[to]
	return ok
}

// add records that a message of the delivery was accepted for the number.
func (l *sentLog) add(delivery, to string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.prune(now)
	e := l.byID[delivery]
	if e == nil {
		e = &sentEntry{to: make(map[string]struct{}, 1), expires: now.Add(sentTTL)}
		l.byID[delivery] = e
		l.order = append(l.order, delivery)
	}
	e.to[to] = struct{}{}
}

// len returns how many deliveries are remembered.
func (l *sentLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.byID)
}

// prune forgets expired deliveries and, beyond maxSent, the oldest. Entries expire in the
// order they were added, so both come off the front of order, which is compacted once half
// of it is forgotten.
func (l *sentLog) prune(now time.Time) {
	for l.head < len(l.order) {
		e := l.byID[l.order[l.head]]
		if now.Before(e.expires) && len(l.order)-l.head < maxSent {
			break
		}
		delete(l.byID, l.order[l.head])
		l.order[l.head] = ""
		l.head++
	}
	if l.head > len(l.order)/2 {
		l.order = append(l.order[:0:0], l.order[l.head:]...)
		l.head = 0
	}
}
