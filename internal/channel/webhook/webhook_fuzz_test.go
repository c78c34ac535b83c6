package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/webhook"
	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/sdk"
)

// FuzzSendVerifies: the webhook of any event the dispatcher accepts reaches a healthy
// receiver over real HTTP, signed so that sdk.Verifier accepts it, with the body exactly as
// published and the delivery id as its webhook-id. An event whose id no HTTP request can
// carry would otherwise be retried until it is dead-lettered, though nothing is wrong with
// the receiver.
func FuzzSendVerifies(f *testing.F) {
	f.Add("01JSAMPLE00000000000000001", []byte(`{"specversion":"1.0","id":"01JSAMPLE00000000000000001","source":"s","type":"a.b"}`))
	f.Add("evt-123", []byte(nil))
	f.Add("é:ü/?#%00", []byte("\x00\xff not json at all"))
	f.Add("a\"b'c<d>e&f", bytes.Repeat([]byte(`{"k":"v"}`), 500))
	f.Add("x\u00a0y\u2028z", []byte("{}"))

	f.Fuzz(func(t *testing.T, eventID string, body []byte) {
		// What the dispatcher refuses never becomes a delivery: an event id that fails
		// sdk's checks, or a body that is not UTF-8.
		ev := &sdk.Event{SpecVersion: sdk.SpecVersion, ID: eventID, Source: "fuzz", Type: "fuzz.event"}
		if ev.Validate() != nil || !utf8.ValidString(eventID) {
			return
		}
		r := webhooktest.NewReceiver(t, "")
		ch := webhook.New(r.Client())
		n := channel.Notification{DeliveryID: eventID + ":ops", Attempt: 1, Event: ev, Raw: body, Destination: r.Destination("ops")}
		want := body
		if len(body) == 0 {
			// Without the published bytes the channel sends the event encoded.
			var err error
			if want, err = json.Marshal(ev); err != nil {
				t.Fatal(err)
			}
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		o := ch.Send(ctx, n)

		if o.Kind != channel.Delivered {
			t.Fatalf("event id %q: outcome %s (%d) %q, want delivered to a healthy receiver", eventID, o.Kind, o.StatusCode, o.Reason)
		}
		if bad := r.BadSignatures(); bad != 0 {
			t.Fatalf("event id %q: %d requests failed verification: %v", eventID, bad, r.Requests()[0].VerifyErr)
		}
		reqs := r.ByID()[n.DeliveryID]
		if len(reqs) != 1 || r.Count() != 1 {
			t.Fatalf("event id %q: %d requests under webhook-id %q, %d in all; want one", eventID, len(reqs), n.DeliveryID, r.Count())
		}
		if !bytes.Equal(reqs[0].Body, want) {
			t.Fatalf("event id %q: body %q, want %q as published", eventID, reqs[0].Body, want)
		}
	})
}
