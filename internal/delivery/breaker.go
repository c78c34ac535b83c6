package delivery

import (
	"sync"
	"time"
)

// Breaker is a circuit breaker per destination. After Threshold transient failures in a row
// a destination's circuit opens: deliveries to it are not sent but handed back to JetStream
// for the rest of the cooldown, so a dead endpoint stops holding send slots for a timeout
// each and stops being hammered. When the cooldown ends one delivery goes through as a
// probe; success closes the circuit, failure opens it again for twice as long, up to
// MaxCooldown. Permanent failures (most 4xx) do not count: the endpoint answered.
type Breaker struct {
	// Threshold is the number of transient failures in a row that opens the circuit.
	// Zero disables the breaker.
	Threshold int
	// Cooldown is how long the circuit first stays open. Defaults to 30s.
	Cooldown time.Duration
	// MaxCooldown caps the doubling cooldown. Defaults to 5m.
	MaxCooldown time.Duration

	mu    sync.Mutex
	state map[string]*circuit
}

type circuit struct {
	failures  int
	openUntil time.Time
	cooldown  time.Duration
	probing   bool
}

// Allow reports whether a delivery to dest may be sent now, and if not, how long until the
// circuit lets a probe through.
func (b *Breaker) Allow(dest string, now time.Time) (bool, time.Duration) {
	if b == nil || b.Threshold <= 0 {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := b.state[dest]
	switch {
	case c == nil || c.openUntil.IsZero():
		return true, 0
	case now.Before(c.openUntil):
		return false, c.openUntil.Sub(now)
	case c.probing:
		// One probe at a time: the others wait for its answer.
		return false, min(c.cooldown, time.Second)
	default:
		c.probing = true
		return true, 0
	}
}

// Record notes the result of a send to dest: ok for delivered (or a permanent refusal, which
// shows the endpoint alive), !ok for a transient failure. It reports whether this result
// opened the circuit.
func (b *Breaker) Record(dest string, ok bool, now time.Time) (opened bool) {
	if b == nil || b.Threshold <= 0 {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == nil {
		b.state = map[string]*circuit{}
	}
	c := b.state[dest]
	if ok {
		delete(b.state, dest)
		return false
	}
	if c == nil {
		c = &circuit{cooldown: b.cooldown()}
		b.state[dest] = c
	}
	c.failures++
	switch {
	case c.probing:
		c.probing = false
		c.cooldown = min(2*c.cooldown, b.maxCooldown())
		c.openUntil = now.Add(c.cooldown)
		return true
	case c.openUntil.IsZero() && c.failures >= b.Threshold:
		c.openUntil = now.Add(c.cooldown)
		return true
	}
	return false
}

func (b *Breaker) cooldown() time.Duration {
	if b.Cooldown > 0 {
		return b.Cooldown
	}
	return 30 * time.Second
}

func (b *Breaker) maxCooldown() time.Duration {
	if b.MaxCooldown > 0 {
		return b.MaxCooldown
	}
	return 5 * time.Minute
}
