package delivery

import "sync"

// bulkhead caps the sends in flight to each destination, so that a destination that stops
// answering holds at most its share of the worker's send slots during the seconds before its
// circuit opens, and the other destinations of the channel keep theirs. A delivery whose
// destination is at its cap waits like a paced one, holding no send slot.
type bulkhead struct {
	max  int
	mu   sync.Mutex
	dest map[string]*destSlots
}

// destSlots are one destination's send slots, shared by the deliveries to it that the
// worker holds; users counts them, so that the entry goes once the last is done.
type destSlots struct {
	key   string
	ch    chan struct{}
	users int
	// queued counts the deliveries that wait for one of ch's slots.
	queued int
}

func newBulkhead(max int) *bulkhead {
	return &bulkhead{max: max, dest: make(map[string]*destSlots)}
}

// join returns key's slots for a delivery to hold on to until leave.
func (b *bulkhead) join(key string) *destSlots {
	b.mu.Lock()
	d := b.dest[key]
	if d == nil {
		d = &destSlots{key: key, ch: make(chan struct{}, b.max)}
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

// queue reports whether a delivery may wait for one of d's slots, and if so counts it: at most
// as many wait as d has slots, so that the deliveries of a destination that stopped
// answering do not pile up in the worker (and, past its limit of waiting deliveries, stop
// the consumer for every destination). Each true answer is paired with dequeue.
func (b *bulkhead) queue(d *destSlots) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d.queued >= b.max {
		return false
	}
	d.queued++
	return true
}

// dequeue ends a wait that queue allowed.
func (b *bulkhead) dequeue(d *destSlots) {
	b.mu.Lock()
	d.queued--
	b.mu.Unlock()
}
