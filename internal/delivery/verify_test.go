package delivery_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
)

// rawFake is the fake channel as one that sends the body as published (as webhook does),
// which the worker then does not decode.
type rawFake struct{ *fakeChannel }

func (rawFake) SendsRaw() bool { return true }

// TestMalformedDeliveriesAreRefused: a delivery the dispatcher could not have made for this
// channel (another tenant's subject, ids that do not fit together, a body that is not its
// event) is dead-lettered as failed with the reason, and never sent, whether the channel
// reads the event or sends the body as published. A replay's delivery id is one the
// dispatcher makes, and is sent.
func TestMalformedDeliveriesAreRefused(t *testing.T) {
	t.Parallel()
	for _, raw := range []bool{false, true} {
		t.Run(map[bool]string{false: "decoding channel", true: "raw channel"}[raw], func(t *testing.T) {
			t.Parallel()
			checkRefusals(t, raw)
		})
	}
}

func checkRefusals(t *testing.T, raw bool) {
	e := newEnv(t, 4, 5*time.Second)
	e.ch = &fakeChannel{outcome: perAttempt(channel.Sent(http.StatusOK))}
	var ch channel.Channel = e.ch
	if raw {
		ch = rawFake{e.ch}
	}
	e.worker = delivery.New(delivery.Config{Attempts: 4, SendTimeout: 5 * time.Second}, delivery.Deps{
		Consumer: e.cons, Publisher: e.js, Channel: ch, Attempts: e.attempts, Metrics: e.metrics, Logger: obs.Discard(),
		Destinations: delivery.StaticDestinations{destID: webhook.Destination(destID, "https://example.com/hook", "")},
	})
	if err := e.worker.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.worker.Stop)
	notJSON := "not a JSON event"
	if !raw {
		notJSON = "" // the event's own decoding error
	}
	cases := []struct {
		name, reason string
		forge        func(m *nats.Msg)
	}{
		{"another tenant's subject", "not this channel's, or not its tenant's", func(m *nats.Msg) {
			m.Subject = broker.Subjects{Prefix: "herald"}.Deliver(chName, "globex")
		}},
		{"a body of another tenant", "body is tenant \"acme\"'s event", func(m *nats.Msg) {
			m.Subject = broker.Subjects{Prefix: "herald"}.Deliver(chName, "globex")
			m.Header.Set(broker.HeaderTenant, "globex")
		}},
		{"a delivery id of another event", "is not <event id>:<destination id>", func(m *nats.Msg) {
			m.Header.Set(broker.HeaderDeliveryID, "01FORGED:"+destID)
		}},
		{"a delivery id of another destination", "is not <event id>:<destination id>", func(m *nats.Msg) {
			m.Header.Set(broker.HeaderDeliveryID, m.Header.Get(broker.HeaderEventID)+":elsewhere")
		}},
		{"no event id", "lacks its Herald-Event-Id", func(m *nats.Msg) { m.Header.Del(broker.HeaderEventID) }},
		{"a body that is not an event", notJSON, func(m *nats.Msg) { m.Data = []byte("forged bytes") }},
		{"a body of another event", "body is event", func(m *nats.Msg) {
			m.Data = []byte(strings.Replace(string(m.Data), m.Header.Get(broker.HeaderEventID), "01OTHER", 1))
		}},
		{"a tenant that is no subject token", "is not one subject token", func(m *nats.Msg) {
			m.Header.Set(broker.HeaderTenant, "acme.*")
		}},
	}
	ids := map[string]string{}
	for _, c := range cases {
		m, _ := newDelivery(t, destID)
		c.forge(m)
		m.Header.Set(jetstream.MsgIDHeader, c.name) // each its own, whatever its delivery id
		e.publishMsg(t, m)
		ids[c.name] = m.Header.Get(broker.HeaderDeliveryID)
	}
	replay, replayID := newDelivery(t, destID)
	replayID += ":r1"
	replay.Header.Set(broker.HeaderDeliveryID, replayID)
	replay.Header.Set(jetstream.MsgIDHeader, replayID)
	e.publishMsg(t, replay)

	testutil.WaitFor(t, waitLong, "every forged delivery dead-lettered", func() bool {
		return len(e.streamMsgs(t, broker.StreamDead)) >= len(cases)
	})
	e.waitSettled(t)
	dead := e.streamMsgs(t, broker.StreamDead)
	for _, c := range cases {
		found := false
		for _, d := range dead {
			if d.Header.Get(broker.HeaderDeliveryID) != ids[c.name] || !strings.Contains(d.Header.Get(broker.HeaderDeadReason), c.reason) {
				continue
			}
			found = true
			if st := d.Header.Get(broker.HeaderDeadStatus); st != "failed" {
				t.Errorf("%s: dead letter status %q, want failed", c.name, st)
			}
			if !strings.HasPrefix(d.Subject, "herald.dead."+chName+".") {
				t.Errorf("%s: dead letter on %s", c.name, d.Subject)
			}
		}
		if !found {
			t.Errorf("%s: no dead letter saying %q among %d", c.name, c.reason, len(dead))
		}
	}
	sends := e.ch.Sends()
	if len(sends) != 1 || sends[0].deliveryID != replayID {
		t.Errorf("sends %+v, want only the replay's %s", sends, replayID)
	}
}

// TestUnknownDestinationEndsInDead: a delivery to a destination no worker knows is held for
// a rolling deploy, and dead-lettered once UnknownDestinationGrace has passed since it was
// published: never sent.
func TestUnknownDestinationEndsInDead(t *testing.T) {
	t.Parallel()
	e := setup(t, delivery.Config{UnknownDestinationGrace: 300 * time.Millisecond,
		Backoff: delivery.Backoff{Delays: []time.Duration{50 * time.Millisecond}}}, perAttempt(channel.Sent(http.StatusOK)))
	id, _ := e.publish(t, "gone")
	testutil.WaitFor(t, waitLong, "the delivery dead-lettered", func() bool {
		return len(e.streamMsgs(t, broker.StreamDead)) == 1
	})
	e.waitSettled(t)
	d := e.streamMsgs(t, broker.StreamDead)[0]
	if d.Header.Get(broker.HeaderDeliveryID) != id || !strings.Contains(d.Header.Get(broker.HeaderDeadReason), `destination "gone" does not exist`) {
		t.Errorf("dead letter %v", d.Header)
	}
	if md := d.Header.Get(broker.HeaderDeadStatus); md != "failed" {
		t.Errorf("status %q, want failed", md)
	}
	if n := len(e.ch.Sends()); n != 0 {
		t.Errorf("%d sends, want none", n)
	}
	if rs := e.results(t, id); len(rs) != 1 || rs[0].Status != "failed" {
		t.Errorf("results %+v, want one failed", rs)
	}
}
