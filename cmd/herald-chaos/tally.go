package main

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
)

// arrival is one request the receiver verified, and how it answered.
type arrival struct {
	WebhookID string
	// Dest is the destination, from the request's path (/hooks/<dest>).
	Dest string
	// EventID is the id in the body, read independently of the webhook-id.
	EventID string
	// Status is the answer; 0 means the receiver held the request until the sender gave up.
	Status int
	At     time.Time
}

func (a arrival) ok() bool { return a.Status >= 200 && a.Status < 300 }

// deadLetter is one message of the DEAD stream.
type deadLetter struct {
	Subject string
	Header  nats.Header
	Data    []byte
}

// eventID returns the id of the event a dead letter carries: the delivery's Herald-Event-Id,
// else the event's Nats-Msg-Id (which dead-lettering suffixes with ":dead"), else the body's.
func (d deadLetter) eventID() string {
	if id := d.Header.Get(broker.HeaderEventID); id != "" {
		return id
	}
	if id := d.Header.Get(jetstream.MsgIDHeader); id != "" {
		return strings.TrimSuffix(id, ":dead")
	}
	var ev struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(d.Data, &ev)
	return ev.ID
}

// expectation is what a scenario must see delivered.
type expectation struct {
	// published holds the counted events (acknowledged to their publisher) and when each
	// was first published.
	published map[string]time.Time
	// healthy lists the destinations every counted event must reach.
	healthy []string
	// start is the first publish; end is when the scenario stopped waiting for deliveries.
	start, end time.Time
}

type pairKey struct{ event, dest string }

// tally fills r's delivery figures from what the receiver saw and what DEAD holds.
func tally(r *Result, exp expectation, arrivals []arrival, dead []deadLetter) {
	r.Events = len(exp.published)
	r.Expected = r.Events * len(exp.healthy)
	first := map[pairKey]time.Time{}
	count := map[pairKey]int{}
	ids := map[pairKey]map[string]bool{}
	for _, a := range arrivals {
		if !a.ok() || !slices.Contains(exp.healthy, a.Dest) {
			continue
		}
		if _, counted := exp.published[a.EventID]; !counted {
			continue
		}
		k := pairKey{a.EventID, a.Dest}
		if t, seen := first[k]; !seen || a.At.Before(t) {
			first[k] = a.At
		}
		count[k]++
		if ids[k] == nil {
			ids[k] = map[string]bool{}
		}
		ids[k][a.WebhookID] = true
	}
	r.Delivered = len(first)
	r.Lost = r.Expected - r.Delivered
	r.DupsSameID = true
	r.Duplicates = 0
	for k, n := range count {
		r.Duplicates += n - 1
		if len(ids[k]) != 1 || !ids[k][broker.DeliveryID(k.event, k.dest)] {
			r.DupsSameID = false
		}
	}

	var lat []time.Duration
	var last time.Time
	for k, at := range first {
		lat = append(lat, at.Sub(exp.published[k.event]))
		if at.After(last) {
			last = at
		}
	}
	r.P99MS, r.MaxMS = quantileMS(lat, 0.99), quantileMS(lat, 1)
	r.Drained = r.Lost == 0
	switch {
	case !r.Drained:
		r.DrainSeconds = exp.end.Sub(exp.start).Seconds()
	case r.Expected > 0:
		r.DrainSeconds = last.Sub(exp.start).Seconds()
	}

	r.Dead, r.HealthyInDead = len(dead), 0
	for _, d := range dead {
		if healthyDead(d, exp) {
			r.HealthyInDead++
		}
	}
}

// healthyDead reports whether a dead letter should never have died: a delivery to a healthy
// destination, or a counted (good) event refused as invalid.
func healthyDead(d deadLetter, exp expectation) bool {
	if dest := d.Header.Get(broker.HeaderDestination); dest != "" {
		return slices.Contains(exp.healthy, dest)
	}
	_, good := exp.published[d.eventID()]
	return good
}

// quantileMS returns the q-quantile of ds in milliseconds (q = 1 is the maximum), or 0 for
// none.
func quantileMS(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, int(q*float64(len(s))))
	return float64(s[i]) / float64(time.Millisecond)
}
