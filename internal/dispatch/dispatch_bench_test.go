package dispatch

import (
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/sdk"
)

// benchMsg is the part of a consumed message that validation reads.
type benchMsg struct {
	jetstream.Msg
	subject string
	data    []byte
}

func (m benchMsg) Subject() string { return m.subject }
func (m benchMsg) Data() []byte    { return m.data }

// BenchmarkValidate measures what the dispatcher does to every event before routing it:
// decode and check the envelope, check the payload against its type, check the subject.
func BenchmarkValidate(b *testing.B) {
	ev, err := sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 12.5, Currency: "EUR", PaymentID: "pay_1"})
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		b.Fatal(err)
	}
	d := New(Config{}, Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	msg := benchMsg{subject: ev.Subject("herald"), data: body}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, r := d.validate(msg); r != nil {
			b.Fatal(r.Reason)
		}
	}
}

// BenchmarkRouteFanOut10 routes an event to ten destinations of one channel.
func BenchmarkRouteFanOut10(b *testing.B) {
	dests := make([]channel.Destination, 10)
	for i := range dests {
		dests[i] = channel.Destination{ID: "d" + strconv.Itoa(i), Channel: "webhook"}
	}
	r := NewRouter(dests, nil)
	b.ReportAllocs()
	for b.Loop() {
		if len(r.Route("payment.succeeded")) != 10 {
			b.Fatal("not routed to every destination")
		}
	}
}

// BenchmarkIdempotencyKey computes an event's identity, once per event: the idempotency
// record's key and the suffix of its deliveries' Nats-Msg-Ids.
func BenchmarkIdempotencyKey(b *testing.B) {
	id, err := sdk.NewID()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(eventKey("acme", "billing", id)) != 22 {
			b.Fatal("not a 22-character key")
		}
	}
}
