package delivery

import (
	"sync"
	"time"
)

// CircuitState is where a destination's circuit stands.
type CircuitState int

// The states of a circuit. A closed circuit sends; an open one holds deliveries until its
// cooldown ends; a half-open one lets one probe through and holds the rest until it answers.
const (
	CircuitClosed CircuitState = iota
	CircuitOpen
	CircuitHalfOpen
)

func (s CircuitState) String() string {
	switch s {
	case CircuitOpen:
		return "open"
	case CircuitHalfOpen:
		return "half-open"
	default:
		return "closed"
	}
}

// Breaker is a circuit breaker per destination, the way webhook services protect an endpoint
// that is down: it opens on a sustained failure rate, never on a handful of errors.
//
// Sends are counted in a sliding window (Window, in windowBuckets slices). The circuit opens
// when, within the window, at least MinFailures sends failed transiently and they are at least
// FailureRate of all sends answered. A busy destination that refuses a few bad events stays
// closed; one that stopped answering opens after MinFailures timeouts. While open, deliveries
// are held: the worker hands them back to JetStream until the circuit lets a probe through,
// without spending an attempt, so a breaker never sends a delivery to DEAD. When the cooldown
// ends one delivery goes through as a probe and the rest wait for its answer: success closes
// the circuit; failure opens it again for twice as long, up to MaxCooldown. Permanent
// refusals (most 4xx) count as answers, not failures: the endpoint is alive.
//
// A Breaker is safe for concurrent use. Each worker process keeps its own.
type Breaker struct {
	BreakerConfig
	// OnChange, if set, is called (outside the breaker's lock) whenever a circuit changes
	// state, for metrics and logs.
	OnChange func(Transition)

	mu    sync.Mutex
	state map[string]*circuit
}

// BreakerConfig tunes a Breaker.
type BreakerConfig struct {
	// MinFailures is the least number of transient failures within the window that can open
	// a circuit. Zero disables the breaker.
	MinFailures int
	// FailureRate is the share of failed sends within the window that opens a circuit, once
	// MinFailures is reached. Defaults to 0.5.
	FailureRate float64
	// Window is how far back sends are counted. Defaults to 1m.
	Window time.Duration
	// Cooldown is how long a circuit first stays open. Defaults to 30s.
	Cooldown time.Duration
	// MaxCooldown caps the doubling cooldown. Defaults to 5m.
	MaxCooldown time.Duration
	// ProbeTimeout is the longest a probe's answer is awaited before another delivery may
	// probe instead (its worker may have died). Defaults to 30s; the worker sets it to its
	// send timeout.
	ProbeTimeout time.Duration
}

// Transition is a change of one destination's circuit.
type Transition struct {
	Destination string
	From, To    CircuitState
	// Failures and Sends are the window's counts when the circuit opened from closed.
	Failures, Sends int
	// Cooldown is how long the circuit stays open, when To is CircuitOpen.
	Cooldown time.Duration
}

// windowBuckets is how many slices the sliding window is kept in: the counts age out a tenth
// of the window at a time.
const windowBuckets = 10

type circuit struct {
	buckets  [windowBuckets]windowBucket
	state    CircuitState
	until    time.Time // open: when a probe may go; half-open: when the probe is given up
	cooldown time.Duration
}

type windowBucket struct {
	start           time.Time
	sends, failures int
}

// Allow reports whether a delivery to dest may be sent now. If not, wait is how long until
// the circuit may let it through: the rest of the cooldown, or the probe's longest answer.
// A true answer for an open circuit whose cooldown is over makes this send the probe.
func (b *Breaker) Allow(dest string, now time.Time) (ok bool, wait time.Duration) {
	if b == nil || b.MinFailures <= 0 {
		return true, 0
	}
	b.mu.Lock()
	c := b.state[dest]
	if c == nil || c.state == CircuitClosed {
		b.mu.Unlock()
		return true, 0
	}
	if now.Before(c.until) {
		b.mu.Unlock()
		return false, c.until.Sub(now)
	}
	// Open with the cooldown over, or half-open with the probe's answer overdue: this send
	// probes.
	from := c.state
	c.state = CircuitHalfOpen
	c.until = now.Add(b.probeTimeout())
	b.mu.Unlock()
	if from != CircuitHalfOpen {
		b.changed(Transition{Destination: dest, From: from, To: CircuitHalfOpen})
	}
	return true, 0
}

// State reports dest's circuit state now.
func (b *Breaker) State(dest string) CircuitState {
	if b == nil {
		return CircuitClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if c := b.state[dest]; c != nil {
		return c.state
	}
	return CircuitClosed
}

// Record notes the answer of a send to dest: ok for delivered or refused for good (the
// endpoint answered), !ok for a transient failure (a timeout, a 5xx, a refused connection).
func (b *Breaker) Record(dest string, ok bool, now time.Time) {
	if b == nil || b.MinFailures <= 0 {
		return
	}
	b.mu.Lock()
	if b.state == nil {
		b.state = map[string]*circuit{}
	}
	c := b.state[dest]
	if c == nil {
		if ok {
			// A healthy destination with no failure in sight needs no state at all.
			b.mu.Unlock()
			return
		}
		c = &circuit{cooldown: b.cooldown()}
		b.state[dest] = c
	}
	var t *Transition
	switch c.state {
	case CircuitHalfOpen:
		if ok {
			t = &Transition{Destination: dest, From: CircuitHalfOpen, To: CircuitClosed}
			delete(b.state, dest)
		} else {
			c.cooldown = min(2*c.cooldown, b.maxCooldown())
			c.state, c.until = CircuitOpen, now.Add(c.cooldown)
			t = &Transition{Destination: dest, From: CircuitHalfOpen, To: CircuitOpen, Cooldown: c.cooldown}
		}
	case CircuitOpen:
		// The answer of a send that left before the circuit opened: it changes nothing.
	default:
		sends, failures := c.add(ok, now, b.window())
		if failures >= b.MinFailures && float64(failures) >= b.failureRate()*float64(sends) {
			c.state, c.until = CircuitOpen, now.Add(c.cooldown)
			t = &Transition{Destination: dest, From: CircuitClosed, To: CircuitOpen,
				Failures: failures, Sends: sends, Cooldown: c.cooldown}
		} else if failures == 0 {
			delete(b.state, dest) // all failures aged out
		}
	}
	b.mu.Unlock()
	if t != nil {
		b.changed(*t)
	}
}

// add counts one send in the window's current bucket and returns the window's totals.
func (c *circuit) add(ok bool, now time.Time, window time.Duration) (sends, failures int) {
	width := window / windowBuckets
	start := now.Truncate(width)
	i := int(start.UnixNano()/int64(width)) % windowBuckets
	if i < 0 {
		i += windowBuckets
	}
	if !c.buckets[i].start.Equal(start) {
		c.buckets[i] = windowBucket{start: start}
	}
	c.buckets[i].sends++
	if !ok {
		c.buckets[i].failures++
	}
	oldest := start.Add(-window + width)
	for _, bk := range c.buckets {
		if !bk.start.Before(oldest) && !bk.start.After(start) {
			sends += bk.sends
			failures += bk.failures
		}
	}
	return sends, failures
}

func (b *Breaker) changed(t Transition) {
	if b.OnChange != nil {
		b.OnChange(t)
	}
}

func (b *Breaker) failureRate() float64 {
	if b.FailureRate > 0 {
		return b.FailureRate
	}
	return 0.5
}

func (b *Breaker) window() time.Duration {
	if b.Window >= windowBuckets {
		return b.Window
	}
	return time.Minute
}

func (b *Breaker) cooldown() time.Duration {
	if b.Cooldown > 0 {
		return b.Cooldown
	}
	return 30 * time.Second
}

func (b *Breaker) maxCooldown() time.Duration {
	if b.MaxCooldown > 0 {
		return max(b.MaxCooldown, b.cooldown())
	}
	return max(5*time.Minute, b.cooldown())
}

func (b *Breaker) probeTimeout() time.Duration {
	if b.ProbeTimeout > 0 {
		return b.ProbeTimeout
	}
	return 30 * time.Second
}
