package delivery

import (
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := Backoff{Delays: []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second}, Max: time.Minute}
	cases := []struct {
		name       string
		attempt    int
		retryAfter time.Duration
		want       time.Duration // before jitter
	}{
		{"first retry", 1, 0, 5 * time.Second},
		{"second retry", 2, 0, 10 * time.Second},
		{"third retry", 3, 0, 20 * time.Second},
		{"past the list doubles the last", 4, 0, 40 * time.Second},
		{"capped", 9, 0, time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for range 200 {
				got := b.Delay(c.attempt, c.retryAfter)
				lo, hi := time.Duration(float64(c.want)*0.8), min(time.Duration(float64(c.want)*1.2), time.Minute)
				if got < lo || got > hi {
					t.Fatalf("Delay(%d) = %s, want within [%s, %s]", c.attempt, got, lo, hi)
				}
			}
		})
	}
	if got := b.Delay(1, 7*time.Second); got != 7*time.Second {
		t.Errorf("Retry-After 7s gave %s, want exactly 7s", got)
	}
	if got := b.Delay(1, time.Hour); got != time.Minute {
		t.Errorf("Retry-After 1h gave %s, want the 1m cap", got)
	}
}
