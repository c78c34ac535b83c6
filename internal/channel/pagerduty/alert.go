package pagerduty

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/heraldhq/herald/sdk"
)

// The event actions Herald sends.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
// https://developer.pagerduty.com/docs/events-api-v2/resolve-events/
const (
	actionTrigger = "trigger"
	actionResolve = "resolve"
)

// MaxDedupKeyChars bounds a dedup key.
// https://developer.pagerduty.com/docs/events-api-v2/trigger-events/
const MaxDedupKeyChars = 255

// keyPrefix starts every dedup key Herald makes, so that its alerts stand apart from other
// sources' on a shared integration.
const keyPrefix = "herald/"

// Alert says what one event does to PagerDuty's alerts: trigger (open, or add to) or resolve
// the alert of DedupKey.
type Alert struct {
	// Action is "trigger" or "resolve".
	Action string
	// DedupKey names the alert. It depends only on the event, so it is the same on every
	// attempt of a delivery, and an event that resolves computes the key of the alert it
	// resolves.
	DedupKey string
}

// AlertOf maps an event to its alert. Events about the same thing share an alert, so that a
// burst of them makes one incident that grows rather than many, and the event that says the
// thing recovered resolves it:
//
//	node.terminated, node.health_degraded   trigger  herald/<tenant>/node/<node_id>
//	node.launched                           resolve  herald/<tenant>/node/<node_id>
//	payment.failed                          trigger  herald/<tenant>/payment
//	payment.succeeded                       resolve  herald/<tenant>/payment
//	cost.anomaly_detected                   trigger  herald/<tenant>/cost
//	ratelimit.threshold_reached             trigger  herald/<tenant>/ratelimit
//	tenant.created and custom types         trigger  herald/<tenant>/event/<event id>
//
// The tenant is the event's ("_" for none): a node's launch resolves the alert of its
// reclaim or its degraded health, a tenant's payment resolves the alert of its failed ones.
// Cost anomalies and rate-limit thresholds have no recovery event: their alert is resolved
// in PagerDuty, and the next one after that opens a new alert. A node event whose data has
// no node_id cannot name its node's alert, and triggers one of its own (a node.launched
// then reports the launch instead of resolving). A key longer than 255 characters becomes
// herald/sha256:<hex of the key>, the same for the trigger and its resolve.
func AlertOf(e *sdk.Event) Alert {
	tenant := e.Tenant()
	switch e.Type {
	case sdk.TypeNodeTerminated, sdk.TypeNodeHealthDegraded, sdk.TypeNodeLaunched:
		id := nodeID(e.Data)
		if id == "" {
			break
		}
		action := actionTrigger
		if e.Type == sdk.TypeNodeLaunched {
			action = actionResolve
		}
		return Alert{Action: action, DedupKey: dedupKey(tenant, "node", id)}
	case sdk.TypePaymentFailed:
		return Alert{Action: actionTrigger, DedupKey: dedupKey(tenant, "payment")}
	case sdk.TypePaymentSucceeded:
		return Alert{Action: actionResolve, DedupKey: dedupKey(tenant, "payment")}
	case sdk.TypeCostAnomalyDetected:
		return Alert{Action: actionTrigger, DedupKey: dedupKey(tenant, "cost")}
	case sdk.TypeRateLimitThresholdReached:
		return Alert{Action: actionTrigger, DedupKey: dedupKey(tenant, "ratelimit")}
	}
	return Alert{Action: actionTrigger, DedupKey: dedupKey(tenant, "event", e.ID)}
}

// dedupKey joins the parts under keyPrefix, hashing a key that would be too long.
func dedupKey(parts ...string) string {
	key := keyPrefix + strings.Join(parts, "/")
	if chars(key) <= MaxDedupKeyChars {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return keyPrefix + "sha256:" + hex.EncodeToString(sum[:])
}

// nodeID reads the node_id of a node event's data, written as a string or a number, as
// sdk.DecodeDataLenient would; "" if there is none.
func nodeID(data json.RawMessage) string {
	var d struct {
		NodeID json.RawMessage `json:"node_id"`
	}
	if json.Unmarshal(data, &d) != nil || len(d.NodeID) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(d.NodeID, &s) != nil {
		var n json.Number
		if json.Unmarshal(d.NodeID, &n) != nil {
			return ""
		}
		s = n.String()
	}
	return strings.TrimSpace(s)
}
