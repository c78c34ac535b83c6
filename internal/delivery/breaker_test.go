package delivery

import (
	"testing"
	"time"
)

func TestBreaker(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_700_000_000, 0)
	b := &Breaker{Threshold: 3, Cooldown: 10 * time.Second, MaxCooldown: 30 * time.Second}

	for i := range 2 {
		if b.Record("d", false, now) {
			t.Fatalf("opened after %d failures, threshold is 3", i+1)
		}
	}
	if ok, _ := b.Allow("d", now); !ok {
		t.Fatal("closed circuit refused a send")
	}
	if !b.Record("d", false, now) {
		t.Fatal("third failure in a row did not open the circuit")
	}
	if ok, wait := b.Allow("d", now.Add(4*time.Second)); ok || wait != 6*time.Second {
		t.Fatalf("open circuit: allow=%v wait=%s, want refused for the 6s left", ok, wait)
	}
	if ok, _ := b.Allow("other", now); !ok {
		t.Fatal("another destination's circuit is affected")
	}

	// Cooldown over: one probe, the rest wait for it.
	later := now.Add(11 * time.Second)
	if ok, _ := b.Allow("d", later); !ok {
		t.Fatal("no probe after the cooldown")
	}
	if ok, _ := b.Allow("d", later); ok {
		t.Fatal("a second send went through while the probe is out")
	}
	// The probe fails: open again for twice as long.
	if !b.Record("d", false, later) {
		t.Fatal("failed probe did not reopen the circuit")
	}
	if ok, wait := b.Allow("d", later); ok || wait != 20*time.Second {
		t.Fatalf("after a failed probe: allow=%v wait=%s, want 20s", ok, wait)
	}
	// Doubling is capped.
	for range 3 {
		at := later.Add(time.Hour)
		b.Allow("d", at)
		b.Record("d", false, at)
		later = at
	}
	if _, wait := b.Allow("d", later); wait != 30*time.Second {
		t.Fatalf("cooldown %s, want the 30s cap", wait)
	}
	// A successful probe closes it.
	at := later.Add(time.Hour)
	b.Allow("d", at)
	b.Record("d", true, at)
	if ok, _ := b.Allow("d", at); !ok {
		t.Fatal("a successful probe did not close the circuit")
	}
	if b.Record("d", false, at) {
		t.Fatal("one failure after recovery reopened the circuit")
	}
}

func TestBreakerDisabled(t *testing.T) {
	t.Parallel()
	var nilBreaker *Breaker
	b := &Breaker{}
	for _, br := range []*Breaker{nilBreaker, b} {
		for range 100 {
			br.Record("d", false, time.Now())
		}
		if ok, _ := br.Allow("d", time.Now()); !ok {
			t.Fatal("a disabled breaker refused a send")
		}
	}
}
