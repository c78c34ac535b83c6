package delivery

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// UnknownDestinationGrace is how long after it was published a delivery to a destination
// that the worker does not know is held, for a rolling deploy whose workers learn the
// destination last, or a tenant destination still on its way to this worker. Past it the
// destination does not exist (it was deleted, or the delivery is forged): the delivery is
// dead-lettered as failed, never sent.
const UnknownDestinationGrace = 5 * time.Minute

// checkDelivery reports why a message is not a delivery the dispatcher could have made for
// this worker's channel, or "" when it is one. NATS permissions keep anyone but the
// dispatcher from publishing deliveries (see package natsauth); this check is the worker's
// own line behind them, so that a delivery published by a mistake or by someone who got
// around them is refused, dead-lettered with its reason, and never sent under the
// channel's credentials. Its only cost is reading the envelope of a delivery whose channel
// sends the body as published, which the worker does not otherwise decode.
//
// A refused delivery's tenant is cleared in res when it is not a subject token, so that its
// dead letter has a subject.
func (w *Worker) checkDelivery(msg jetstream.Msg, res *store.Result) string {
	if !sdk.ValidTenant(res.TenantID) {
		tenant := res.TenantID
		res.TenantID = ""
		return fmt.Sprintf("delivery's tenant %s is not one subject token", quote(tenant))
	}
	if want := w.subj.Deliver(w.name, res.TenantID); msg.Subject() != want {
		return fmt.Sprintf("delivery on %s, not on %s: not this channel's, or not its tenant's", quote(msg.Subject()), want)
	}
	if res.EventID == "" || res.EventType == "" {
		return "delivery lacks its Herald-Event-Id or Herald-Event-Type header"
	}
	// <event id>:<destination id>, or a replay's <event id>:<destination id>:<replay id>.
	id := res.EventID + ":" + res.Destination
	if rest, ok := strings.CutPrefix(res.DeliveryID, id); !ok || rest != "" && (rest[0] != ':' || strings.ContainsAny(rest[1:], ".:") || len(rest) == 1) {
		return fmt.Sprintf("delivery id %s is not <event id>:<destination id> of its event %s and destination %s",
			quote(res.DeliveryID), quote(res.EventID), quote(res.Destination))
	}
	if !w.raw {
		// The worker decodes the whole event before sending it (see bodyMismatch).
		return ""
	}
	// A channel that sends the body as published would sign and send any bytes: read the
	// envelope's id and tenant: about 10µs for a small event on a busy 2-core machine, where
	// the benchmark's whole pipeline spends up to 500µs of CPU per webhook delivered.
	var env struct {
		ID     string `json:"id"`
		Tenant string `json:"tenantid"`
	}
	if err := json.Unmarshal(msg.Data(), &env); err != nil {
		return "delivery's body is not a JSON event: " + err.Error()
	}
	return bodyMismatch(env.ID, env.Tenant, *res)
}

// bodyMismatch reports why a delivery's body, whose event id and tenantid are given, is not
// the event its headers name, or "" when it is.
func bodyMismatch(id, tenant string, res store.Result) string {
	if id != res.EventID {
		return fmt.Sprintf("delivery's body is event %s, not %s", quote(id), quote(res.EventID))
	}
	if t := (&sdk.Event{TenantID: tenant}).Tenant(); t != res.TenantID {
		return fmt.Sprintf("delivery's body is tenant %s's event, not %s's", quote(t), quote(res.TenantID))
	}
	return ""
}

// unknownDestination reports, for a delivery whose destination the worker does not know,
// why it is refused, or "" while it is within Config.UnknownDestinationGrace and is held.
func (w *Worker) unknownDestination(md *jetstream.MsgMetadata, res store.Result) string {
	grace := w.cfg.UnknownDestinationGrace
	if md.Timestamp.IsZero() || time.Since(md.Timestamp) < grace {
		return ""
	}
	return fmt.Sprintf("destination %s does not exist on channel %s (unknown to the workers for %s after the delivery was published)",
		quote(res.Destination), w.name, grace)
}

// quote quotes a value taken from a message for a reason, cut to a length that keeps the
// reason readable.
func quote(s string) string {
	const most = 80
	if len(s) > most {
		s = s[:most] + "…"
	}
	return fmt.Sprintf("%q", s)
}
