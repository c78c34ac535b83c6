package channeltest

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/sdk"
)

// SampleNotification returns a first attempt at delivering a small payment.failed event to
// d, with a delivery id of the form "<event id>:<destination id>".
func SampleNotification(d channel.Destination) channel.Notification {
	return notification(d, "01JCONFORMANCE0000000000000", json.RawMessage(
		`{"tenant_id":"acme","reason":"card_declined","amount":4200}`))
}

// OversizeNotification returns a notification whose event carries a data field of size
// bytes, larger than any provider accepts, to check that a channel still answers with a
// clean outcome.
func OversizeNotification(d channel.Destination, size int) channel.Notification {
	data, _ := json.Marshal(map[string]string{"blob": strings.Repeat("x", size)})
	return notification(d, "01JCONFORMANCEOVERSIZE00000", data)
}

func notification(d channel.Destination, id string, data json.RawMessage) channel.Notification {
	ev := &sdk.Event{
		SpecVersion:     sdk.SpecVersion,
		ID:              id,
		Source:          "herald/channeltest",
		Type:            "payment.failed",
		Time:            time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC),
		DataContentType: "application/json",
		Data:            data,
		TenantID:        "acme",
		Severity:        sdk.SeverityWarning,
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		panic("channeltest: encode sample event: " + err.Error())
	}
	return channel.Notification{
		DeliveryID:  ev.ID + ":" + d.ID,
		Attempt:     1,
		Event:       ev,
		Raw:         raw,
		Destination: d,
	}
}
