package tenants

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// TestRateLimitIsNotAFailure: a provider's 429 with a wait neither starts nor clears a
// destination's failure state, and a delivery for a destination whose channel changed
// after the fan-out ends.
func TestRateLimitIsNotAFailure(t *testing.T) {
	b := setup(t)
	ctx := t.Context()
	ep := newEndpoint(t, "127.0.0.2", http.StatusTooManyRequests)
	in := webhookInput(ep.URL+"/h", "*")
	in.ID = "h"
	if _, err := b.svc.Create(ctx, "acme", in); err != nil {
		t.Fatal(err)
	}
	health := NewHealth(b.bucket, b.table, time.Millisecond, obs.Discard())
	op, _ := b.channels.Operator.Get("webhook")
	guarded, _ := b.channels.Sender("webhook")
	sender := NewSender(op, guarded, health)
	var d channel.Destination
	testutil.WaitFor(t, time.Second, "the destination in the table", func() bool {
		var ok bool
		d, ok = b.table.Destination("acme/h")
		return ok
	})
	ev, _ := sdk.New("order.shipped", "acme", map[string]any{"n": 1})
	raw, _ := json.Marshal(ev)
	n := channel.Notification{DeliveryID: ev.ID + ":acme/h", Attempt: 1, Event: ev, Raw: raw, Destination: d}
	if out := sender.Send(ctx, n); out.Kind != channel.Retry || out.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("send to a 429: %+v", out)
	}
	// A write would have reached the bucket before Send returned.
	if _, err := b.bucket.Get(ctx, healthKey("acme", "h")); err == nil {
		t.Error("a rate limit was noted as a failure")
	}
	n.Destination.Channel = "slack"
	if out := sender.Send(ctx, n); out.Kind != channel.Permanent || out.Reason != "destination moved to channel slack" {
		t.Errorf("a delivery whose destination changed channel: %+v", out)
	}
}
