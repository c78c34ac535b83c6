package fakeprovider

import "sync"

// Queue holds the failures a test injects into a fake, answered first in, first out. The
// zero value is an empty queue.
type Queue[F any] struct {
	mu    sync.Mutex
	items []F
}

// Push queues f after the others.
func (q *Queue[F]) Push(f F) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items = append(q.items, f)
}

// Pop removes and returns the first queued item, if there is one.
func (q *Queue[F]) Pop() (F, bool) {
	return q.PopFunc(func(F) bool { return true })
}

// PopFunc removes and returns the first queued item for which match is true, if there is
// one, leaving the others in their order: a failure meant for one recipient waits for a
// request to it.
func (q *Queue[F]) PopFunc(match func(F) bool) (F, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, f := range q.items {
		if match(f) {
			q.items = append(q.items[:i:i], q.items[i+1:]...)
			return f, true
		}
	}
	var zero F
	return zero, false
}
