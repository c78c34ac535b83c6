package delivery

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerLister is the part of jetstream.Stream (DELIVERIES) the depth sampler reads.
type ConsumerLister interface {
	ListConsumers(ctx context.Context) jetstream.ConsumerInfoLister
}

// DepthSampler keeps notification_retry_queue_depth and notification_queue_depth current for
// every channel, from the channel consumers of DELIVERIES. Every process runs one, so the
// figures are on any process's /metrics; they are the consumers' state, the same everywhere.
type DepthSampler struct {
	stream   ConsumerLister
	metrics  *Metrics
	interval time.Duration
	stop     chan struct{}
	done     sync.WaitGroup
}

// NewDepthSampler samples every interval (defaults to 5s).
func NewDepthSampler(stream ConsumerLister, m *Metrics, interval time.Duration) *DepthSampler {
	if interval <= 0 {
		interval = 5 * time.Second
	}
	return &DepthSampler{stream: stream, metrics: m, interval: interval, stop: make(chan struct{})}
}

// Start samples once at once, then every interval until Stop.
func (s *DepthSampler) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		defer cancel()
		t := time.NewTicker(s.interval)
		defer t.Stop()
		for {
			s.Sample(ctx)
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// Stop ends sampling.
func (s *DepthSampler) Stop() {
	close(s.stop)
	s.done.Wait()
}

// Sample reads every channel consumer once.
func (s *DepthSampler) Sample(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, s.interval)
	defer cancel()
	l := s.stream.ListConsumers(ctx)
	for info := range l.Info() {
		ch, ok := strings.CutPrefix(info.Name, "deliver-")
		if !ok {
			continue
		}
		s.metrics.retryDepth.WithLabelValues(ch).Set(float64(info.NumAckPending))
		s.metrics.queueDepth.WithLabelValues(ch).Set(float64(info.NumPending))
	}
}
