package delivery

import (
	"sync"
	"testing"
	"time"
)

// transitions records a breaker's state changes.
type transitions struct {
	mu  sync.Mutex
	all []Transition
}

func (r *transitions) add(t Transition) { r.mu.Lock(); r.all = append(r.all, t); r.mu.Unlock() }

func (r *transitions) to() []CircuitState {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []CircuitState
	for _, t := range r.all {
		out = append(out, t.To)
	}
	return out
}

func newBreaker(rec *transitions) *Breaker {
	return &Breaker{BreakerConfig: BreakerConfig{
		MinFailures: 5, FailureRate: 0.5, Window: 10 * time.Second,
		Cooldown: 10 * time.Second, MaxCooldown: 30 * time.Second, ProbeTimeout: 2 * time.Second,
	}, OnChange: rec.add}
}

// TestBreakerBusyDestinationWithSomeBadEvents: the case. A busy destination answers
// most sends and fails a tenth of them, each twice: its failure rate stays low, so its circuit
// never opens, however many failures it adds up to.
func TestBreakerBusyDestinationWithSomeBadEvents(t *testing.T) {
	t.Parallel()
	var rec transitions
	b := newBreaker(&rec)
	now := time.Unix(1_700_000_000, 0)
	for i := range 1000 {
		now = now.Add(5 * time.Millisecond)
		if ok, _ := b.Allow("busy", now); !ok {
			t.Fatalf("send %d held: the circuit opened on a destination that answers 80%% of sends", i)
		}
		b.Record("busy", i%10 >= 2, now) // 20% of sends fail, in runs of two
	}
	if got := rec.to(); len(got) != 0 {
		t.Errorf("transitions %v, want none", got)
	}
}

// TestBreakerFewFailuresDoNotOpen: a quiet destination whose few sends all failed has not
// failed often enough to be judged.
func TestBreakerFewFailuresDoNotOpen(t *testing.T) {
	t.Parallel()
	var rec transitions
	b := newBreaker(&rec)
	now := time.Unix(1_700_000_000, 0)
	for range 4 {
		b.Record("quiet", false, now)
	}
	if ok, _ := b.Allow("quiet", now); !ok {
		t.Fatal("4 failures opened a circuit whose MinFailures is 5")
	}
	// Failures older than the window age out: four more, later, still do not open it.
	later := now.Add(11 * time.Second)
	for range 4 {
		b.Record("quiet", false, later)
	}
	if ok, _ := b.Allow("quiet", later); !ok {
		t.Fatal("failures from before the window still counted")
	}
}

func TestBreakerLifecycle(t *testing.T) {
	t.Parallel()
	var rec transitions
	b := newBreaker(&rec)
	now := time.Unix(1_700_000_000, 0)

	// Half of the answers failing, five failures: open.
	for i := range 10 {
		b.Record("d", i%2 == 0, now)
	}
	if got := b.State("d"); got != CircuitOpen {
		t.Fatalf("state %s after 5 of 10 sends failed, want open", got)
	}
	if ok, wait := b.Allow("d", now.Add(4*time.Second)); ok || wait != 6*time.Second {
		t.Fatalf("open circuit: allow=%v wait=%s, want held for the 6s left", ok, wait)
	}
	if ok, _ := b.Allow("other", now); !ok {
		t.Fatal("another destination's circuit is affected")
	}

	// Cooldown over: one probe; the rest wait for its answer, at most the probe timeout.
	later := now.Add(11 * time.Second)
	if ok, _ := b.Allow("d", later); !ok {
		t.Fatal("no probe after the cooldown")
	}
	if ok, wait := b.Allow("d", later); ok || wait != 2*time.Second {
		t.Fatalf("second send while the probe is out: allow=%v wait=%s, want held 2s", ok, wait)
	}
	// The probe fails: open again for twice as long.
	b.Record("d", false, later)
	if ok, wait := b.Allow("d", later); ok || wait != 20*time.Second {
		t.Fatalf("after a failed probe: allow=%v wait=%s, want 20s", ok, wait)
	}
	// Doubling is capped.
	for range 3 {
		later = later.Add(time.Hour)
		b.Allow("d", later)
		b.Record("d", false, later)
	}
	if _, wait := b.Allow("d", later); wait != 30*time.Second {
		t.Fatalf("cooldown %s, want the 30s cap", wait)
	}
	// A probe whose answer never comes (its worker died) is given up after ProbeTimeout.
	later = later.Add(time.Hour)
	if ok, _ := b.Allow("d", later); !ok {
		t.Fatal("no probe")
	}
	if ok, _ := b.Allow("d", later.Add(time.Second)); ok {
		t.Fatal("a second probe while the first may still answer")
	}
	later = later.Add(3 * time.Second)
	if ok, _ := b.Allow("d", later); !ok {
		t.Fatal("no new probe after the first one's answer was overdue")
	}
	// A successful probe closes it, with a clean slate.
	b.Record("d", true, later)
	if got := b.State("d"); got != CircuitClosed {
		t.Fatalf("state %s after a successful probe, want closed", got)
	}
	for range 4 {
		b.Record("d", false, later)
	}
	if got := b.State("d"); got != CircuitClosed {
		t.Fatalf("state %s: failures from before the probe still counted", got)
	}

	want := []CircuitState{CircuitOpen, CircuitHalfOpen, CircuitOpen, CircuitHalfOpen, CircuitOpen, CircuitHalfOpen, CircuitOpen,
		CircuitHalfOpen, CircuitOpen, CircuitHalfOpen, CircuitClosed}
	if got := rec.to(); len(got) != len(want) {
		t.Errorf("transitions %v, want %v", got, want)
	} else {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("transitions %v, want %v", got, want)
				break
			}
		}
	}
}

func TestBreakerPermanentRefusalsAreAnswers(t *testing.T) {
	t.Parallel()
	b := newBreaker(&transitions{})
	now := time.Unix(1_700_000_000, 0)
	for range 100 {
		b.Record("d", true, now) // 400s: the endpoint answers
	}
	if got := b.State("d"); got != CircuitClosed {
		t.Fatalf("state %s", got)
	}
}

func TestBreakerDisabled(t *testing.T) {
	t.Parallel()
	b := &Breaker{}
	now := time.Unix(1_700_000_000, 0)
	for range 100 {
		b.Record("d", false, now)
	}
	if ok, _ := b.Allow("d", now); !ok {
		t.Fatal("a breaker with MinFailures 0 held a send")
	}
}
