package broker

import "sync"

// Pool runs the handlers of consumed messages on goroutines it keeps for reuse, at most size
// at once. A goroutine started per message begins with the smallest stack and grows it, by
// copying, on its way through JSON decoding, publishing and HTTP; kept goroutines keep their
// grown stacks. Per-message goroutines spent about 3% of the fleet's CPU growing stacks in
// the pipeline profile.
//
// Go is meant for a consume callback, which JetStream runs serially: it must not be called
// concurrently, nor after Close.
type Pool struct {
	jobs chan func()
	size int
	n    int // goroutines started; only Go reads and writes it
	wg   sync.WaitGroup
	once sync.Once
}

// NewPool returns a pool of at most size goroutines (at least 1), started as they are needed.
func NewPool(size int) *Pool {
	return &Pool{jobs: make(chan func()), size: max(size, 1)}
}

// Go runs f on an idle goroutine of the pool, on a new one if none is idle and fewer than
// size exist, or else waits until one is idle: the pool's back-pressure.
func (p *Pool) Go(f func()) {
	select {
	case p.jobs <- f:
		return
	default:
	}
	if p.n < p.size {
		p.n++
		p.wg.Add(1)
		go p.run(f)
		return
	}
	p.jobs <- f
}

func (p *Pool) run(f func()) {
	defer p.wg.Done()
	for ok := true; ok; f, ok = <-p.jobs {
		f()
	}
}

// Close waits for the functions running to return and ends the pool's goroutines. It is
// safe to call more than once.
func (p *Pool) Close() {
	p.once.Do(func() { close(p.jobs) })
	p.wg.Wait()
}
