package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/broker"
)

// slowVars: a send gives up after 2 s, and a delivery has 3 attempts, so that deliveries to
// the destination that never answers can end in DEAD within the run, after their attempts.
var slowVars = map[string]string{
	"NOTIFICATIONS_SEND_TIMEOUT":  "2s",
	"NOTIFICATIONS_MAX_RETRIES":   "2",
	"NOTIFICATIONS_RETRY_BACKOFF": "100ms,200ms",
}

// slowRounds is how many times the slow-destination scenario measures each side: five, so
// that one round the shared machine slowed does not decide the median.
const slowRounds = 5

// slowAttempts is the attempts a delivery has under slowVars.
const slowAttempts = 3

// slowDestination: nine healthy destinations keep at least 90% of their throughput beside one
// that never answers; that one is held by its circuit breaker, and its deliveries reach DEAD
// only after their real attempts.
func slowDestination(ctx context.Context, s *suite, r *Result) error {
	var healthy []string
	for i := range 9 {
		healthy = append(healthy, "d"+strconv.Itoa(i+1))
	}
	// Rounds of a run without the slow destination and one beside it, back to back: the
	// machine is shared and its speed drifts, so each round's two runs are compared with each
	// other, and the median of the rounds' ratios stands.
	var ratios []float64
	var rates, earlier []string
	var e *env
	for round := range slowRounds {
		var without Result
		w, err := s.throughputRun(ctx, fmt.Sprintf("slow-destination-baseline-%d", round+1), healthy, false, &without)
		if err != nil {
			return fmt.Errorf("run without the slow destination: %w", err)
		}
		w.close()
		without.verdict()
		if !without.Pass || without.Delivered == 0 {
			return fmt.Errorf("run without the slow destination failed: %s", strings.Join(without.failures(), "; "))
		}
		withoutRate := float64(without.Delivered) / without.DrainSeconds

		if e != nil { // an earlier round's run beside the slow destination
			e.close()
			r.verdict()
			earlier = append(earlier, r.failures()...)
		}
		*r = Result{Scenario: r.Scenario, Summary: r.Summary, DupsSameID: true} // the last round's figures stand
		if e, err = s.throughputRun(ctx, fmt.Sprintf("slow-destination-%d", round+1), healthy, true, r); err != nil {
			return err
		}
		besideRate := 0.0
		if r.Drained {
			besideRate = float64(r.Delivered) / r.DrainSeconds
		}
		ratios = append(ratios, besideRate/withoutRate)
		rates = append(rates, fmt.Sprintf("%.0f without, %.0f beside it: %.0f%%", withoutRate, besideRate, 100*besideRate/withoutRate))
	}
	defer e.close()
	r.check("the earlier round beside the slow destination passed", len(earlier) == 0, "%s", strings.Join(earlier, "; "))
	slices.Sort(ratios)
	ratio := ratios[len(ratios)/2]
	r.check(fmt.Sprintf("healthy throughput at least %.0f%% of the runs without the slow destination", 100*s.sc.SlowShare),
		r.Drained && ratio >= s.sc.SlowShare, "median of the rounds %.0f%% (%s)", 100*ratio, strings.Join(rates, "; "))

	opened, err := e.metric(ctx, "notifications_circuit_opened_total")
	if err != nil {
		r.check("the slow destination's circuit opened", false, "workers' metrics unreadable: %v", err)
	} else {
		r.check("the slow destination's circuit opened", opened > 0, "notifications_circuit_opened_total = %.0f", opened)
	}

	dead, err := e.deadLetters(ctx)
	if err != nil {
		return err
	}
	var slowDead, early int
	var example string
	for _, d := range dead {
		if d.Header.Get(broker.HeaderDestination) != "slow" {
			continue
		}
		slowDead++
		id := broker.DeliveryID(d.eventID(), "slow")
		if real := e.recv.requests(id); real < slowAttempts {
			early++
			if example == "" {
				example = fmt.Sprintf("; e.g. %s after %d requests, Herald-Attempts %s, reason %q", id, real,
					d.Header.Get(broker.HeaderAttempts), d.Header.Get(broker.HeaderDeadReason))
			}
		}
	}
	r.check("slow deliveries dead only after their real attempts", early == 0,
		"%d of the slow destination's deliveries in DEAD, %d of them after fewer than %d requests%s", slowDead, early, slowAttempts, example)

	// The slow destination's deliveries are now all held: do fresh events still reach the
	// healthy destinations? Held deliveries count against the consumer's MaxAckPending.
	pending, maxPending := -1, -1
	if c, err := e.js.Consumer(ctx, broker.StreamDeliveries, "deliver-webhook"); err == nil {
		if info, err := c.Info(ctx); err == nil {
			pending, maxPending = info.NumAckPending, info.Config.MaxAckPending
		}
	}
	more, err := goodEvents(100)
	if err != nil {
		return err
	}
	pub := newPublisher(e.js)
	pub.publish(ctx, more, 0, 4)
	var want []string
	for id := range pub.published() {
		for _, d := range healthy {
			want = append(want, broker.DeliveryID(id, d))
		}
	}
	missing := e.recv.waitDelivered(ctx, 30*time.Second, want)
	r.check("healthy deliveries still flow while the slow destination's are held", len(missing) == 0,
		"%d of %d deliveries of %d later events arrived within 30 s; before them the channel's consumer had %d deliveries pending acknowledgement, MaxAckPending %d",
		len(want)-len(missing), len(want), len(more), pending, maxPending)
	return nil
}

// throughputRun publishes SlowEvents events as fast as the fleet takes them to the healthy
// destinations (and, with slow, to one that never answers), waits until the healthy ones
// have every delivery, and tallies into r. The caller closes the returned environment.
func (s *suite) throughputRun(ctx context.Context, name string, healthy []string, slow bool, r *Result) (*env, error) {
	behave := map[string]behaviour{}
	for _, d := range healthy {
		behave[d] = answer(http.StatusNoContent)
	}
	if slow {
		behave["slow"] = hang()
	}
	e, err := s.webhookEnv(ctx, name, 1, 2, behave, slowVars)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			e.close()
		}
	}()
	msgs, err := goodEvents(s.sc.SlowEvents)
	if err != nil {
		return nil, err
	}
	pub := newPublisher(e.js)
	start := time.Now()
	pub.publish(ctx, msgs, 0, 8)
	s.log.Info("published", "run", name, "events", len(msgs), "seconds", time.Since(start).Seconds())
	exp, _, err := e.settle(ctx, r, pub, healthy, s.sc.Drain)
	if err != nil {
		return nil, err
	}
	e.checkLedger(ctx, r, exp, time.Minute)
	e.commonChecks(r)
	r.check("every event acknowledged", pub.unacked() == 0, "%s", pub.summary())
	ok = true
	return e, nil
}
