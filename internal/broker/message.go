package broker

import (
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Headers Herald sets on its messages. A delivery's body is the event exactly as published;
// these headers say where it goes. Dead letters add why they died.
const (
	HeaderDeliveryID  = "Herald-Delivery-Id"
	HeaderDestination = "Herald-Destination"
	HeaderEventID     = "Herald-Event-Id"
	HeaderEventType   = "Herald-Event-Type"
	HeaderTenant      = "Herald-Tenant"
	HeaderChannel     = "Herald-Channel"
	// HeaderDeadReason says why a message was dead-lettered.
	HeaderDeadReason = "Herald-Dead-Reason"
	// HeaderDeadStatus is failed (a permanent error), dead (attempts ran out) or invalid
	// (an event the dispatcher rejected).
	HeaderDeadStatus = "Herald-Dead-Status"
	// HeaderAttempts is how many attempts a dead delivery had.
	HeaderAttempts = "Herald-Attempts"
	// HeaderOriginalSubject is the subject the dead message was first published on.
	HeaderOriginalSubject = "Herald-Original-Subject"
)

// DeliveryID is the stable id of one event's delivery to one destination: the webhook-id that
// receivers deduplicate on. The fan-out's Nats-Msg-Id extends it with the event's tenant and
// source (see package dispatch), so a dispatcher that crashes between publishing and acking
// cannot double-send, and another tenant's event of the same id is not taken for a copy.
func DeliveryID(eventID, destinationID string) string { return eventID + ":" + destinationID }

// Original is a message about to be dead-lettered, as consumed or as read back from its
// stream.
type Original struct {
	Subject string
	Data    []byte
	Header  nats.Header
	// Stream and Seq locate it, for a dead letter id when it has no Nats-Msg-Id.
	Stream string
	Seq    uint64
}

// OriginalOf describes a consumed message.
func OriginalOf(m jetstream.Msg) Original {
	o := Original{Subject: m.Subject(), Data: m.Data(), Header: m.Headers()}
	if md, err := m.Metadata(); err == nil {
		o.Stream, o.Seq = md.Stream, md.Sequence.Stream
	}
	return o
}

// OriginalOfRaw describes a message read from a stream by sequence.
func OriginalOfRaw(stream string, m *jetstream.RawStreamMsg) Original {
	return Original{Subject: m.Subject, Data: m.Data, Header: m.Header, Stream: stream, Seq: m.Sequence}
}

// DeadLetter builds the DEAD message for a delivery or an event: the original body and
// headers, plus the reason, the status and the attempts. Its Nats-Msg-Id derives from the
// original's, so a worker that dead-letters twice (a crash between publish and term) leaves
// one dead letter.
func DeadLetter(subject string, orig Original, status, reason string, attempts int) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = orig.Data
	for k, vs := range orig.Header {
		if k != jetstream.MsgIDHeader {
			m.Header[k] = vs
		}
	}
	id := orig.Header.Get(jetstream.MsgIDHeader)
	if id == "" && orig.Stream != "" {
		id = orig.Stream + "." + strconv.FormatUint(orig.Seq, 10)
	}
	if id != "" {
		m.Header.Set(jetstream.MsgIDHeader, id+":dead")
	}
	m.Header.Set(HeaderOriginalSubject, orig.Subject)
	m.Header.Set(HeaderDeadStatus, status)
	m.Header.Set(HeaderDeadReason, truncate(reason, 1024))
	if attempts > 0 {
		m.Header.Set(HeaderAttempts, strconv.Itoa(attempts))
	}
	return m
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
