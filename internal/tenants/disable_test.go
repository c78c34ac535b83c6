package tenants

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestFailingDestinationIsDisabledOnce: a destination that fails for the configured time
// without a success is disabled with reason "failing", and two dispatcher replicas publish
// one destination.disabled event for it; a success before then clears the failure.
func TestFailingDestinationIsDisabledOnce(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	ep := newEndpoint(t, "127.0.0.2", http.StatusInternalServerError)
	in := webhookInput(ep.URL+"/h", "*")
	in.ID = "h"
	if _, err := b.svc.Create(ctx, "acme", in); err != nil {
		t.Fatal(err)
	}
	other := b.newTable(t)
	const after = 400 * time.Millisecond
	var metrics []*Metrics
	for _, tb := range []*Table{b.table, other} {
		m := NewMetrics(prometheus.NewRegistry())
		metrics = append(metrics, m)
		d := &Disabler{Service: b.svc, Table: tb, Publisher: b.js, Prefix: "herald", After: after, Every: 20 * time.Millisecond, Logger: obs.Discard(), Metrics: m}
		d.Start(ctx)
		t.Cleanup(d.Stop)
	}
	health := NewHealth(b.bucket, b.table, 10*time.Millisecond, obs.Discard())
	op, _ := b.channels.Operator.Get("webhook")
	guarded, _ := b.channels.Sender("webhook")
	sender := NewSender(op, guarded, health)
	send := func() channel.Outcome {
		t.Helper()
		var d channel.Destination
		testutil.WaitFor(t, time.Second, "the destination in the worker's table", func() bool {
			var ok bool
			d, ok = b.table.Destination("acme/h")
			return ok
		})
		ev, _ := sdk.New("order.shipped", "acme", map[string]any{"n": 1})
		raw, _ := json.Marshal(ev)
		return sender.Send(ctx, channel.Notification{DeliveryID: ev.ID + ":acme/h", Attempt: 1, Event: ev, Raw: raw, Destination: d})
	}

	// A failure, then a success: the failure state is cleared.
	if out := send(); out.Kind != channel.Retry {
		t.Fatalf("send to a 500: %+v", out)
	}
	testutil.WaitFor(t, time.Second, "the failure noted", func() bool { _, ok := b.table.failing("acme/h"); return ok })
	ep.setStatus(http.StatusNoContent)
	if out := send(); out.Kind != channel.Delivered {
		t.Fatalf("send to a 204: %+v", out)
	}
	testutil.WaitFor(t, time.Second, "the failure cleared by a success", func() bool { _, ok := b.table.failing("acme/h"); return !ok })

	// Failures only: disabled after the configured time.
	ep.setStatus(http.StatusInternalServerError)
	start := time.Now()
	send()
	testutil.WaitFor(t, 5*time.Second, "the destination disabled", func() bool {
		d, err := b.svc.Get(ctx, "acme", "h")
		return err == nil && !d.Enabled
	})
	if took := time.Since(start); took < after {
		t.Errorf("disabled after %s, before the configured %s", took, after)
	}
	d, _ := b.svc.Get(ctx, "acme", "h")
	if d.DisabledReason != DisabledFailing {
		t.Errorf("disabled reason %q; want %q", d.DisabledReason, DisabledFailing)
	}
	testutil.WaitFor(t, time.Second, "the failure state cleared", func() bool { _, ok := b.table.failing("acme/h"); return !ok })
	// Counted for the alert on automatic disables, by channel; two replicas racing may both
	// count the one disable, never none.
	if n := promtest.ToFloat64(metrics[0].Disabled.WithLabelValues("webhook")) + promtest.ToFloat64(metrics[1].Disabled.WithLabelValues("webhook")); n < 1 {
		t.Errorf("notifications_destinations_disabled_total{channel=\"webhook\"} = %v; want at least 1", n)
	}

	// One event, whichever replica published it, and as many times as it did.
	cons, err := b.js.OrderedConsumer(ctx, broker.StreamEvents, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"herald.events.acme." + TypeDestinationDisabled}})
	if err != nil {
		t.Fatal(err)
	}
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatalf("no destination.disabled event: %v", err)
	}
	ev, err := sdk.Decode(msg.Data())
	if err != nil {
		t.Fatal(err)
	}
	var data struct {
		DestinationID string `json:"destination_id"`
		Channel       string `json:"channel"`
		FailingSince  string `json:"failing_since"`
		LastError     string `json:"last_error"`
	}
	_ = json.Unmarshal(ev.Data, &data)
	if ev.Tenant() != "acme" || data.DestinationID != "h" || data.Channel != "webhook" || data.FailingSince == "" || data.LastError == "" {
		t.Errorf("destination.disabled event: tenant %q, data %+v", ev.Tenant(), data)
	}
	if _, err := cons.Next(jetstream.FetchMaxWait(300 * time.Millisecond)); err == nil {
		t.Error("destination.disabled was published twice")
	}
	// The disabled destination's deliveries end.
	testutil.WaitFor(t, time.Second, "the worker sees the disable", func() bool {
		out := send()
		return out.Kind == channel.Permanent && out.Reason == ReasonDisabled
	})
}
