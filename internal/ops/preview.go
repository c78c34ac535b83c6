package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

var _ control.Previewer = (*Service)(nil)

// PreviewNote is the note of every preview: it is what the channel would send now, not a
// record of what it sent.
const PreviewNote = "rendered now with the current templates"

// previewLead is how long before its first fan-out, or before the time its ULID id names,
// an event is looked for in EVENTS: the dispatcher fans an event out once it is stored, so
// this only covers the clocks of the hosts disagreeing.
const previewLead = 2 * time.Minute

// maxPreviewScan bounds the events of the delivery's tenant and type read to find its event.
const maxPreviewScan = 100_000

// Preview renders what the delivery's channel sends for its event, as `publisher-sdk
// preview` does: with the current templates and the channel's made-up preview destination,
// so that no credential of the real destination appears in it. The event is read from
// EVENTS, exactly as published: by the subject of the delivery's tenant and type, from just
// before the event's first fan-out (the oldest delivery of the event in the ledger, so a
// replayed or redriven delivery finds the same event), matched by id.
func (s *Service) Preview(ctx context.Context, deliveryID string) (control.DeliveryPreview, error) {
	d, _, err := s.deps.Ledger.Delivery(ctx, deliveryID)
	if err != nil {
		return control.DeliveryPreview{}, notFound(err)
	}
	raw, err := s.findEvent(ctx, d)
	if err != nil {
		return control.DeliveryPreview{}, err
	}
	payload, err := s.render(d, raw)
	if err != nil {
		return control.DeliveryPreview{}, err
	}
	return control.DeliveryPreview{DeliveryID: d.DeliveryID, Channel: d.Channel, Event: raw, Payload: payload,
		RenderedAt: time.Now().UTC(), Note: PreviewNote}, nil
}

// findEvent reads the delivery's event from EVENTS.
func (s *Service) findEvent(ctx context.Context, d store.Delivery) (json.RawMessage, error) {
	first := d.CreatedAt
	older, err := s.deps.Ledger.Page(ctx, store.Query{EventID: d.EventID, Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("preview: deliveries of event %s: %w", d.EventID, err)
	}
	for _, o := range older {
		if o.CreatedAt.Before(first) {
			first = o.CreatedAt
		}
	}
	start := first
	if id, err := ulid.ParseStrict(d.EventID); err == nil {
		if t := ulid.Time(id.Time()); t.Before(start) && first.Sub(t) < 24*time.Hour {
			start = t // a producer's backlog: published well before its fan-out
		}
	}
	start = start.Add(-previewLead)
	end := first.Add(previewLead)
	tenant := d.TenantID
	if tenant == "" {
		tenant = "_"
	}
	gone := fmt.Errorf("preview: event %s of delivery %s is no longer in the EVENTS stream (it keeps events for its max age only): %w",
		d.EventID, d.DeliveryID, control.ErrNotFound)

	cctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	defer cancel()
	cons, err := s.deps.JetStream.OrderedConsumer(cctx, broker.StreamEvents, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{s.cfg.Prefix + ".events." + tenant + "." + d.EventType},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
		// Gone soon after the read ends, rather than after the default 5 minutes.
		InactiveThreshold: 30 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("preview: read EVENTS: %w", err)
	}
	var found json.RawMessage
	scanned := 0
	err = scan(ctx, cons, "EVENTS", 256, func(m jetstream.Msg, md *jetstream.MsgMetadata) (bool, error) {
		scanned++
		if md.Timestamp.After(end) {
			return false, nil
		}
		if m.Headers().Get(jetstream.MsgIDHeader) == d.EventID || eventID(m.Data()) == d.EventID {
			found = json.RawMessage(m.Data())
			return false, nil
		}
		return scanned < maxPreviewScan, nil
	})
	if err != nil {
		return nil, fmt.Errorf("preview: %w", err)
	}
	if found != nil {
		return found, nil
	}
	return nil, gone
}

// eventID is the id of a published event, or "" if it is not an event.
func eventID(data []byte) string {
	var e struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(data, &e)
	return e.ID
}

// render is the payload the delivery's channel sends for the event (see
// control.DeliveryPreview).
func (s *Service) render(d store.Delivery, raw []byte) (json.RawMessage, error) {
	if s.deps.Channels == nil {
		return nil, errors.New("preview: no channels")
	}
	c, ok := s.deps.Channels.Get(d.Channel)
	prov, _ := s.deps.Channels.Provider(d.Channel)
	if !ok || prov == nil {
		return nil, fmt.Errorf("preview: channel %q of delivery %s is not one of this server's: %w", d.Channel, d.DeliveryID, control.ErrNotFound)
	}
	pv, ok := channel.As[channel.Previewer](c)
	if !ok {
		return raw, nil // the webhook channel sends the event as published
	}
	ev, err := sdk.Decode(raw)
	if err != nil {
		return nil, &control.FieldError{Field: "event", Message: "the published event does not decode: " + err.Error()}
	}
	dest := channel.Destination{ID: d.Destination, Channel: d.Channel, Config: prov.PreviewConfig()}
	p, err := pv.Preview(channel.Notification{DeliveryID: d.DeliveryID, Attempt: 1, Event: ev, Raw: raw, Destination: dest})
	if err != nil {
		return nil, &control.FieldError{Field: "event", Message: "the " + d.Channel + " templates cannot render it: " + err.Error()}
	}
	var out any
	switch mt, _, _ := mime.ParseMediaType(p.ContentType); {
	case p.Subject != "" || p.HTML != "":
		out = map[string]string{"subject": p.Subject, "text": p.Text, "html": p.HTML}
	case json.Valid(p.Body) && (mt == "application/json" || mt == ""):
		out = map[string]any{"content_type": p.ContentType, "body": json.RawMessage(p.Body)}
	case mt == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(p.Body))
		if err != nil {
			return nil, fmt.Errorf("preview: %s body: %w", d.Channel, err)
		}
		fields := make(map[string]any, len(form))
		for k, v := range form {
			if len(v) == 1 {
				fields[k] = v[0]
			} else {
				fields[k] = v
			}
		}
		out = map[string]any{"content_type": p.ContentType, "body": fields}
	default:
		out = map[string]any{"content_type": p.ContentType, "body": string(p.Body)}
	}
	return json.Marshal(out)
}
