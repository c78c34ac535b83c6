package tenants

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

func refs(ds []channel.Destination) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Channel+":"+d.ID)
	}
	return strings.Join(out, ",")
}

// TestChangesReachEveryReplicaWithinASecond: two processes' tables, as on two dispatcher
// replicas, route by a change within a second of the service's answer.
func TestChangesReachEveryReplicaWithinASecond(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	other := b.newTable(t)
	in := webhookInput("https://example.com/h", "payment.*")
	in.ID = "h"
	if _, err := b.svc.Create(ctx, "acme", in); err != nil {
		t.Fatal(err)
	}
	for i, tb := range []*Table{b.table, other} {
		testutil.WaitFor(t, time.Second, fmt.Sprintf("replica %d routes the new destination", i), func() bool {
			return refs(tb.Route("acme", "payment.failed")) == "webhook:acme/h"
		})
		if got := tb.Route("acme", "tenant.created"); len(got) != 0 {
			t.Errorf("replica %d routes tenant.created to %s; the destination subscribes to payment.*", i, refs(got))
		}
		if got := tb.Route("globex", "payment.failed"); len(got) != 0 {
			t.Errorf("replica %d routes another tenant's event to %s", i, refs(got))
		}
		if got := tb.Route("", "payment.failed"); len(got) != 0 {
			t.Errorf("replica %d routes an event without a tenant to %s", i, refs(got))
		}
	}
	types := []string{"tenant.*"}
	if _, err := b.svc.Update(ctx, "acme", "h", control.DestinationPatch{EventTypes: &types}); err != nil {
		t.Fatal(err)
	}
	for i, tb := range []*Table{b.table, other} {
		testutil.WaitFor(t, time.Second, fmt.Sprintf("replica %d routes by the new subscription", i), func() bool {
			return refs(tb.Route("acme", "tenant.created")) == "webhook:acme/h" && len(tb.Route("acme", "payment.failed")) == 0
		})
	}
	if _, err := b.svc.SetEnabled(ctx, "acme", "h", false); err != nil {
		t.Fatal(err)
	}
	for i, tb := range []*Table{b.table, other} {
		testutil.WaitFor(t, time.Second, fmt.Sprintf("replica %d stops routing to a disabled destination", i), func() bool {
			return len(tb.Route("acme", "tenant.created")) == 0
		})
	}
}

// TestDeletedOrDisabledDestinationEndsItsDeliveries: a delivery fanned out before its
// destination was deleted or disabled fails for good with the reason, rather than waiting
// for a destination that will not come back; one the worker has not heard of yet is held.
func TestDeletedOrDisabledDestinationEndsItsDeliveries(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	ep := newEndpoint(t, "127.0.0.2", 204)
	for _, id := range []string{"gone", "off"} {
		in := webhookInput(ep.URL+"/"+id, "*")
		in.ID = id
		if _, err := b.svc.Create(ctx, "acme", in); err != nil {
			t.Fatal(err)
		}
	}
	op, _ := b.channels.Operator.Get("webhook")
	guarded, _ := b.channels.Sender("webhook")
	dests := Destinations{Operator: delivery.StaticDestinations{}, Table: b.table}
	sender := NewSender(op, guarded, nil)
	testutil.WaitFor(t, time.Second, "the worker's table has both", func() bool {
		_, a := dests.Destination("acme/gone")
		_, c := dests.Destination("acme/off")
		return a && c
	})
	if err := b.svc.Delete(ctx, "acme", "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.svc.SetEnabled(ctx, "acme", "off", false); err != nil {
		t.Fatal(err)
	}
	ev, _ := sdk.New("order.shipped", "acme", map[string]any{"n": 1})
	raw, _ := json.Marshal(ev)
	for id, want := range map[string]string{"acme/gone": ReasonDeleted, "acme/off": ReasonDisabled} {
		var d channel.Destination
		testutil.WaitFor(t, time.Second, id+" is "+want+" in the worker's table", func() bool {
			var ok bool
			d, ok = dests.Destination(id)
			_, gone := goneReason(d.Config)
			return ok && gone
		})
		out := sender.Send(ctx, channel.Notification{DeliveryID: ev.ID + ":" + id, Attempt: 1, Event: ev, Raw: raw, Destination: d})
		if out.Kind != channel.Permanent || out.Reason != want {
			t.Errorf("delivery to %s: %+v; want a permanent failure %q", id, out, want)
		}
	}
	if ep.count() != 0 {
		t.Errorf("the endpoint received %d requests after delete and disable", ep.count())
	}
	if _, ok := dests.Destination("acme/never"); ok {
		t.Error("an unknown tenant destination resolved: the worker would not hold it")
	}
}

// TestSSRFGuardRefusesInternalAddressesForGood: a tenant URL at loopback or at the metadata
// address is never called, and the send fails permanently, saying why.
func TestSSRFGuardRefusesInternalAddressesForGood(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	internal := newEndpoint(t, "127.0.0.1", 204)
	for i, u := range []string{internal.URL + "/x", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/x", "http://localhost:" + strings.TrimPrefix(internal.URL, "http://127.0.0.1:") + "/y"} {
		in := webhookInput(u, "*")
		in.ID = fmt.Sprintf("d%d", i)
		if _, err := b.svc.Create(ctx, "acme", in); err != nil {
			t.Fatal(err)
		}
		out, err := b.svc.Test(ctx, "acme", in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != "failed" || !strings.Contains(out.Error, "SSRF guard") {
			t.Errorf("test send to %s: %+v; want failed by the SSRF guard", u, out)
		}
	}
	if internal.count() != 0 {
		t.Fatalf("the loopback endpoint received %d requests", internal.count())
	}
	// The operator's own destinations are trusted: the operator's sender reaches it.
	op, _ := b.channels.Operator.Get("webhook")
	ev, _ := sdk.New("order.shipped", "", map[string]any{"n": 1})
	raw, _ := json.Marshal(ev)
	cfg, _ := b.channels.decode("webhook", json.RawMessage(`{"url":"`+internal.URL+`/op","secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`))
	out := op.Send(context.Background(), channel.Notification{DeliveryID: ev.ID + ":op", Attempt: 1, Event: ev, Raw: raw,
		Destination: channel.Destination{ID: "op", Channel: "webhook", Config: cfg}})
	if out.Kind != channel.Delivered || internal.count() != 1 {
		t.Errorf("the operator's destination on loopback: %+v", out)
	}
}
