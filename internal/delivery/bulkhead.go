package delivery

import (
	"sync"
	"sync/atomic"
	"time"
)

// bulkhead caps the sends in flight to each destination, so that a destination that stops
// answering holds at most its share of the worker's send slots during the seconds before its
// circuit opens, and the other destinations of the channel keep theirs. A delivery whose
// destination is at its cap waits like a paced one, holding no send slot.
type bulkhead struct {
	max int
	// stuckAfter is how long a destination with its share in flight may go without
	// finishing a send before it counts as stuck.
	stuckAfter time.Duration
	mu         sync.Mutex
	dest       map[string]*destSlots
}

// destSlots are one destination's send slots, shared by the deliveries to it that the
// worker holds; users counts them, so that the entry goes once the last is done.
type destSlots struct {
	key   string
	ch    chan struct{}
	users int
	// queued counts the deliveries that wait for one of ch's slots.
	queued int
	// lastDone is when a send to the destination last finished (Unix nanoseconds).
	lastDone atomic.Int64
}

func newBulkhead(max int, stuckAfter time.Duration) *bulkhead {
	return &bulkhead{max: max, stuckAfter: stuckAfter, dest: make(map[string]*destSlots)}
}

// join returns key's slots for a delivery to hold on to until leave.
func (b *bulkhead) join(key string) *destSlots {
	b.mu.Lock()
	d := b.dest[key]
	if d == nil {
		d = &destSlots{key: key, ch: make(chan struct{}, b.max)}
		d.lastDone.Store(time.Now().UnixNano())
		b.dest[key] = d
	}
	d.users++
	b.mu.Unlock()
	return d
}

// leave ends a delivery's use of d, which join returned.
func (b *bulkhead) leave(d *destSlots) {
	b.mu.Lock()
	if d.users--; d.users == 0 {
		delete(b.dest, d.key)
	}
	b.mu.Unlock()
}

// queue reports whether a delivery may wait for one of d's slots, and if so counts it. A
// busy destination that answers keeps its deliveries waiting, however many: that is the
// worker's back-pressure. One that has as many waiting as it has slots, and has finished no
// send for stuckAfter, has stopped answering: its deliveries are not to pile up in the worker
// (and, past the worker's limit of waiting deliveries, stop the consumer for every
// destination). Each true answer is paired with dequeue.
func (b *bulkhead) queue(d *destSlots) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d.queued >= b.max && time.Since(time.Unix(0, d.lastDone.Load())) > b.stuckAfter {
		return false
	}
	d.queued++
	return true
}

// done notes that a send to d finished.
func (d *destSlots) done() { d.lastDone.Store(time.Now().UnixNano()) }

// dequeue ends a wait that queue allowed.
func (b *bulkhead) dequeue(d *destSlots) {
	b.mu.Lock()
	d.queued--
	b.mu.Unlock()
}
