package broker

import (
	"sync"
	"sync/atomic"
	"testing"
)

func TestPoolRunsEveryFunctionWithinItsSize(t *testing.T) {
	t.Parallel()
	const size, jobs = 4, 200
	p := NewPool(size)
	var running, peak, done atomic.Int32
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(size)
	for i := range jobs {
		p.Go(func() {
			n := running.Add(1)
			for {
				m := peak.Load()
				if n <= m || peak.CompareAndSwap(m, n) {
					break
				}
			}
			if i < size {
				started.Done()
				<-release // the first size functions hold every goroutine until all have started
			}
			running.Add(-1)
			done.Add(1)
		})
		if i == size-1 {
			started.Wait()
			close(release)
		}
	}
	p.Close()
	p.Close() // a second Close, as a second Stop makes, is a no-op
	if got := done.Load(); got != jobs {
		t.Fatalf("ran %d functions, want %d", got, jobs)
	}
	if got := peak.Load(); got > size {
		t.Fatalf("%d functions ran at once, want at most %d", got, size)
	}
	if p.n > size {
		t.Fatalf("started %d goroutines, want at most %d", p.n, size)
	}
}
