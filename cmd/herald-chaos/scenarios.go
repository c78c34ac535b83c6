package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/childproc"
)

// scenario is one fault and what must hold despite it.
type scenario struct {
	name    string
	summary string
	// run sets up the scenario's world, injects the fault and fills r; an error means the
	// harness could not finish it (and fails it).
	run func(ctx context.Context, s *suite, r *Result) error
}

// scenarios in the order they run.
var scenarios = []scenario{
	{"workers-killed", "a receiver failing 20% of requests at random; 3 webhook workers, one SIGKILLed and restarted every few seconds", workersKilled},
	{"leaders-killed", "a 3-node JetStream cluster, streams at 3 replicas; the EVENTS leader, then the DELIVERIES leader SIGKILLed mid-run and restarted", leadersKilled},
	{"postgres-outage", "PostgreSQL stopped mid-run, then started again", postgresOutage},
	{"slow-destination", "one destination that never answers beside nine healthy ones on the webhook channel; their throughput against a run without it", slowDestination},
	{"malformed-events", "malformed messages between good events on herald.events.<tenant>.<type>", malformedEvents},
	{"secrets", "every channel failing against endpoints, with recognisable secrets; logs, dead letters, ledger, metrics and HTTP answers searched for them", secrets},
}

// pick returns the scenarios whose name matches re, in order.
func pick(re *regexp.Regexp) []scenario {
	var out []scenario
	for _, s := range scenarios {
		if re.MatchString(s.name) {
			out = append(out, s)
		}
	}
	return out
}

func names() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

// patient retries are enough that a healthy delivery cannot run out of attempts by bad luck:
// 11 attempts against a receiver failing 20% of them leave 0.2^11 (about 2 in 10^8).
var patient = map[string]string{
	"NOTIFICATIONS_MAX_RETRIES":   "10",
	"NOTIFICATIONS_RETRY_BACKOFF": "100ms,200ms,400ms",
}

// with returns the union of maps, later ones winning.
func with(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// failing answers 500 to a share p of requests at random, and 204 to the others.
func failing(p float64) behaviour {
	return func(int) int {
		if rand.Float64() < p {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	}
}

// workersKilled: every event delivered although workers die mid-send; duplicates only under
// the same webhook-id; the ledger agrees with the receiver; nothing dead.
func workersKilled(ctx context.Context, s *suite, r *Result) error {
	e, err := s.webhookEnv(ctx, "workers-killed", 1, 3, map[string]behaviour{"d0": failing(0.2)}, patient)
	if err != nil {
		return err
	}
	defer e.close()
	msgs, err := goodEvents(s.sc.KillEvents)
	if err != nil {
		return err
	}
	pub := newPublisher(e.js)
	kills, err := e.killWorkersWhile(ctx, s.sc.KillEvery, func() { pub.publish(ctx, msgs, s.sc.KillRate, 8) })
	if err != nil {
		return err
	}
	exp, _, err := e.settle(ctx, r, pub, []string{"d0"}, s.sc.Drain)
	if err != nil {
		return err
	}
	e.checkLedger(ctx, r, exp, time.Minute)
	e.commonChecks(r)
	// A killed worker's deliveries come back after AckWait (4 s), and a delivery may meet
	// two kills and some of its 11 attempts' backoff.
	r.checkStall(20 * time.Second)
	r.check("workers SIGKILLed and restarted", kills > 0, "%d kills, one every %s", kills, s.sc.KillEvery)
	r.check("every event acknowledged", pub.unacked() == 0, "%s", pub.summary())
	return nil
}

// killWorkersWhile runs work while SIGKILLing a worker every interval, in turn, and starting
// it again at once; it returns how many it killed.
func (e *env) killWorkersWhile(ctx context.Context, every time.Duration, work func()) (int, error) {
	done := make(chan struct{})
	go func() {
		work()
		close(done)
	}()
	workers := e.fleet.Names()[1:]
	t := time.NewTicker(every)
	defer t.Stop()
	for kills := 0; ; kills++ {
		select {
		case <-done:
			return kills, nil
		case <-ctx.Done():
			<-done
			return kills, ctx.Err()
		case <-t.C:
		}
		name := workers[kills%len(workers)]
		if err := e.fleet.Kill(name); err != nil {
			<-done
			return kills, err
		}
		if err := e.fleet.Restart(name); err != nil {
			<-done
			return kills + 1, err
		}
	}
}

// leadersKilled: nothing acknowledged to a publisher is lost when the nodes leading EVENTS
// and DELIVERIES die; publishers retry with the same Nats-Msg-Id.
func leadersKilled(ctx context.Context, s *suite, r *Result) error {
	e, err := s.webhookEnv(ctx, "leaders-killed", 3, 2, map[string]behaviour{"d0": answer(http.StatusNoContent)},
		with(patient, map[string]string{"NOTIFICATIONS_STREAM_REPLICAS": "3"}))
	if err != nil {
		return err
	}
	defer e.close()
	n := s.sc.ClusterEvents
	msgs, err := goodEvents(n)
	if err != nil {
		return err
	}
	pub := newPublisher(e.js)
	done := make(chan struct{})
	go func() {
		pub.publish(ctx, msgs, s.sc.ClusterRate, 8)
		close(done)
	}()
	var faults []string
	var faultErr error
	for i, stream := range []string{broker.StreamEvents, broker.StreamDeliveries} {
		at := int64(n * (i + 1) / 4)
		if faultErr = childproc.WaitEvery(ctx, 10*time.Minute, 50*time.Millisecond, "publishing", func() bool { return pub.done.Load() >= at }); faultErr != nil {
			break
		}
		var detail string
		detail, faultErr = e.killLeader(ctx, stream)
		faults = append(faults, detail)
		if faultErr != nil {
			break
		}
	}
	<-done
	exp, _, err := e.settle(ctx, r, pub, []string{"d0"}, s.sc.Drain)
	if err != nil {
		return err
	}
	e.checkLedger(ctx, r, exp, time.Minute)
	e.commonChecks(r)
	r.checkStall(30 * time.Second) // an election takes 4 to 9 s, and there are two
	detail := strings.Join(faults, "; ")
	if faultErr != nil {
		detail += "; " + faultErr.Error()
	}
	r.check("leaders SIGKILLed, replaced and back", faultErr == nil && len(faults) == 2, "%s", detail)
	// Events never acknowledged do not count; most must be, or the scenario proves little.
	r.check("publishes acknowledged", len(exp.published) >= n*9/10, "%s", pub.summary())
	return nil
}

// killLeader SIGKILLs the node leading stream, waits for another leader, starts the node
// again and waits until every replica is current.
func (e *env) killLeader(ctx context.Context, stream string) (string, error) {
	// Asked until it answers: right after the other stream's leader came back, the cluster
	// may take a few seconds to answer stream info again.
	old, err := e.cluster.WaitStreamLeader(ctx, e.js, stream, "", 30*time.Second)
	if err != nil {
		return stream + ": no leader to kill", err
	}
	start := time.Now()
	old.Kill()
	next, err := e.cluster.WaitStreamLeader(ctx, e.js, stream, old.Name(), time.Minute)
	if err != nil {
		return fmt.Sprintf("%s: killed leader %s, none elected", stream, old.Name()), err
	}
	elected := time.Since(start)
	if err := old.Start(ctx); err != nil {
		return fmt.Sprintf("%s: %s could not start again", stream, old.Name()), err
	}
	if err := e.cluster.WaitStreamCurrent(ctx, e.js, stream, 2*time.Minute); err != nil {
		return fmt.Sprintf("%s: replicas not current after %s came back", stream, old.Name()), err
	}
	return fmt.Sprintf("%s: killed leader %s, %s elected after %.1f s, every replica current after %.1f s",
		stream, old.Name(), next.Name(), elected.Seconds(), time.Since(start).Seconds()), nil
}

// postgresOutage: deliveries go on while the ledger's database is down, and the ledger is
// complete once it is back.
func postgresOutage(ctx context.Context, s *suite, r *Result) (err error) {
	e, err := s.webhookEnv(ctx, "postgres-outage", 1, 2, map[string]behaviour{"d0": answer(http.StatusNoContent)}, patient)
	if err != nil {
		return err
	}
	defer e.close()
	msgs, err := goodEvents(s.sc.OutageEvents)
	if err != nil {
		return err
	}
	pub := newPublisher(e.js)
	done := make(chan struct{})
	go func() {
		pub.publish(ctx, msgs, s.sc.OutageRate, 8)
		close(done)
	}()
	defer func() { <-done }()
	at := int64(min(s.sc.OutageRate*3, float64(len(msgs)/4))) // about 3 s in
	if err := childproc.WaitEvery(ctx, 10*time.Minute, 50*time.Millisecond, "publishing", func() bool { return pub.done.Load() >= at }); err != nil {
		return err
	}
	down := time.Now()
	if err := s.pg.Stop(); err != nil {
		return err
	}
	// The outage lasts its time whatever happens meanwhile: it is the fault, not a wait.
	sleepUntil(ctx, down.Add(s.sc.Outage))
	if err := s.pg.Restart(); err != nil {
		return fmt.Errorf("postgres did not come back, the next scenarios cannot run: %w", err)
	}
	up := time.Now()
	during := 0
	for _, a := range e.recv.snapshot() {
		if a.ok() && a.At.After(down) && a.At.Before(up) {
			during++
		}
	}
	<-done
	exp, _, err := e.settle(ctx, r, pub, []string{"d0"}, s.sc.Drain)
	if err != nil {
		return err
	}
	e.checkLedger(ctx, r, exp, 2*time.Minute)
	e.commonChecks(r)
	r.checkStall(5 * time.Second) // the ledger's database is not on the delivery path
	r.check("deliveries went on while PostgreSQL was down", during > 0, "%d deliveries during the %s outage", during, up.Sub(down).Round(100*time.Millisecond))
	r.check("every event acknowledged", pub.unacked() == 0, "%s", pub.summary())
	return nil
}
