package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/sdk"
)

// outgoing is one message to publish on EVENTS.
type outgoing struct {
	// id is its Nats-Msg-Id: the event id, for a good event.
	id  string
	msg *nats.Msg
	// good events count: every one acknowledged must be delivered. Malformed ones do not.
	good bool
}

// goodEvent builds the i-th good event of a scenario with the SDK's constructors, as a
// service would: a payment.failed for acme or a node.terminated for globex.
func goodEvent(i int) (outgoing, error) {
	var ev *sdk.Event
	var err error
	if i%2 == 0 {
		ev, err = sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: float64(i%500) + 0.99})
	} else {
		ev, err = sdk.NewNodeTerminated("globex", sdk.NodeTerminated{NodeID: "n-" + strconv.Itoa(i), TimeRemaining: sdk.SecondsOf(2 * time.Minute), Reason: "spot reclaim"})
	}
	if err != nil {
		return outgoing{}, err
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return outgoing{}, err
	}
	m := &nats.Msg{Subject: ev.Subject(sdk.DefaultSubjectPrefix), Header: nats.Header{jetstream.MsgIDHeader: []string{ev.ID}}, Data: body}
	return outgoing{id: ev.ID, msg: m, good: true}, nil
}

// goodEvents builds n good events.
func goodEvents(n int) ([]outgoing, error) {
	out := make([]outgoing, n)
	for i := range out {
		var err error
		if out[i], err = goodEvent(i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// publisher publishes through plain nats.go JetStream, as any producer would, and keeps a
// producer's promise: a publish that fails or times out is sent again with the same
// Nats-Msg-Id until the stream acknowledges it or giveUp passes. It records when each message
// was first sent and which were acknowledged: only those count.
type publisher struct {
	js      jetstream.JetStream
	timeout time.Duration // bound on one publish attempt
	giveUp  time.Duration // bound on all attempts of one message

	mu    sync.Mutex
	sent  map[string]time.Time
	acked map[string]bool
	good  map[string]bool

	done    atomic.Int64 // messages acknowledged or given up
	retries atomic.Int64
	lastErr atomic.Pointer[string]
}

func newPublisher(js jetstream.JetStream) *publisher {
	return &publisher{js: js, timeout: 2 * time.Second, giveUp: time.Minute,
		sent: map[string]time.Time{}, acked: map[string]bool{}, good: map[string]bool{}}
}

// publish sends msgs, rate per second (0: as fast as parallel publishers go), and returns once
// each is acknowledged or given up.
func (p *publisher) publish(ctx context.Context, msgs []outgoing, rate float64, parallel int) {
	queue := make(chan outgoing)
	go func() {
		defer close(queue)
		start := time.Now()
		for i, m := range msgs {
			if rate > 0 {
				at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				if !sleepUntil(ctx, at) {
					return
				}
			}
			select {
			case queue <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for range max(parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range queue {
				p.one(ctx, m)
				p.done.Add(1)
			}
		}()
	}
	wg.Wait()
}

// one publishes m until acknowledged or given up.
func (p *publisher) one(ctx context.Context, m outgoing) {
	first := time.Now()
	p.mu.Lock()
	p.sent[m.id] = first
	p.good[m.id] = m.good
	p.mu.Unlock()
	for {
		actx, cancel := context.WithTimeout(ctx, p.timeout)
		_, err := p.js.PublishMsg(actx, m.msg)
		cancel()
		if err == nil {
			p.mu.Lock()
			p.acked[m.id] = true
			p.mu.Unlock()
			return
		}
		msg := err.Error()
		p.lastErr.Store(&msg)
		if time.Since(first) > p.giveUp || ctx.Err() != nil {
			return
		}
		p.retries.Add(1)
		// A producer's pause before the retry, so that a server that refuses at once (no
		// stream leader yet) is not asked hundreds of times a second.
		if !sleepUntil(ctx, time.Now().Add(100*time.Millisecond)) {
			return
		}
	}
}

// published returns the good events the stream acknowledged and when each was first sent.
func (p *publisher) published() map[string]time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]time.Time, len(p.acked))
	for id := range p.acked {
		if p.good[id] {
			out[id] = p.sent[id]
		}
	}
	return out
}

// isAcked reports whether the stream acknowledged the message of that id.
func (p *publisher) isAcked(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked[id]
}

// unacked counts the messages never acknowledged.
func (p *publisher) unacked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.sent) - len(p.acked)
}

// start returns when the first message was sent.
func (p *publisher) start() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	var first time.Time
	for _, t := range p.sent {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}

// summary describes the publishing for a check's detail.
func (p *publisher) summary() string {
	p.mu.Lock()
	sent, unacked := len(p.sent), len(p.sent)-len(p.acked)
	p.mu.Unlock()
	s := fmt.Sprintf("%d published, %d retried publishes, %d never acknowledged (not counted)", sent, p.retries.Load(), unacked)
	if e := p.lastErr.Load(); e != nil && unacked > 0 {
		s += "; last error: " + *e
	}
	return s
}

// sleepUntil waits until t or the end of ctx, and reports whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
