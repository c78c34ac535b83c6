package sdk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// The event types of the seed. Each has a payload struct of the same name, a constructor
// (NewTenantCreated, ...) and a default severity. Channels render them specially; any other
// type falls back to a generic rendering.
const (
	TypeTenantCreated             = "tenant.created"
	TypePaymentSucceeded          = "payment.succeeded"
	TypePaymentFailed             = "payment.failed"
	TypeNodeLaunched              = "node.launched"
	TypeNodeTerminated            = "node.terminated"
	TypeNodeHealthDegraded        = "node.health_degraded"
	TypeCostAnomalyDetected       = "cost.anomaly_detected"
	TypeRateLimitThresholdReached = "ratelimit.threshold_reached"
)

// Payload is the data of one of the known event types. Every payload struct of this package
// implements it.
type Payload interface {
	// EventType returns the type the payload belongs to, such as "payment.failed".
	EventType() string
	// Validate returns a *ValidationError naming the field ("data.node_id") that is wrong.
	Validate() error
}

// knownType is what the SDK knows about one of the seed's event types.
type knownType struct {
	severity Severity
	decode   func(json.RawMessage) (Payload, error)
	lenient  func(json.RawMessage) (Payload, []DataMismatch)
}

// known lists the seed's types. A type's default severity says how soon a person should
// look, not how bad the news is:
//
//   - info: tenant.created, payment.succeeded, node.launched (nothing to do).
//   - warning: payment.failed (the customer retries or is dunned), node.health_degraded
//     (still serving), cost.anomaly_detected and ratelimit.threshold_reached (act today).
//   - critical: node.terminated, a spot reclaim warning with minutes or seconds left, when
//     workloads must be drained now.
var known = map[string]knownType{
	TypeTenantCreated:             {SeverityInfo, decodeAs[TenantCreated], decodeLenient[TenantCreated]},
	TypePaymentSucceeded:          {SeverityInfo, decodeAs[PaymentSucceeded], decodeLenient[PaymentSucceeded]},
	TypePaymentFailed:             {SeverityWarning, decodeAs[PaymentFailed], decodeLenient[PaymentFailed]},
	TypeNodeLaunched:              {SeverityInfo, decodeAs[NodeLaunched], decodeLenient[NodeLaunched]},
	TypeNodeTerminated:            {SeverityCritical, decodeAs[NodeTerminated], decodeLenient[NodeTerminated]},
	TypeNodeHealthDegraded:        {SeverityWarning, decodeAs[NodeHealthDegraded], decodeLenient[NodeHealthDegraded]},
	TypeCostAnomalyDetected:       {SeverityWarning, decodeAs[CostAnomalyDetected], decodeLenient[CostAnomalyDetected]},
	TypeRateLimitThresholdReached: {SeverityWarning, decodeAs[RateLimitThresholdReached], decodeLenient[RateLimitThresholdReached]},
}

// KnownTypes returns the event types that have a typed payload, sorted.
func KnownTypes() []string {
	types := make([]string, 0, len(known))
	for t := range known {
		types = append(types, t)
	}
	slices.Sort(types)
	return types
}

// DefaultSeverity returns the severity that events of the given type get unless
// [WithSeverity] says otherwise: info for tenant.created, payment.succeeded and
// node.launched; warning for payment.failed, node.health_degraded, cost.anomaly_detected
// and ratelimit.threshold_reached; critical for node.terminated (a spot reclaim warning:
// its workloads must move within minutes). Custom types default to info.
func DefaultSeverity(eventType string) Severity {
	if k, ok := known[eventType]; ok {
		return k.severity
	}
	return SeverityInfo
}

// ErrUnknownType is returned by [DecodePayload] for an event whose type has no typed
// payload in this package.
var ErrUnknownType = errors.New("event type has no typed payload")

// ValidateData checks that data is a valid payload for eventType: that it decodes into the
// type's payload struct and passes its checks. Fields the struct does not know are
// allowed, so that producers can add to a payload before consumers read it. Data of custom
// types is not checked. The error is a *ValidationError naming the field, such as
// "data.gpu_count".
func ValidateData(eventType string, data json.RawMessage) error {
	k, ok := known[eventType]
	if !ok {
		return nil
	}
	p, err := k.decode(data)
	if err != nil {
		return err
	}
	return p.Validate()
}

// DecodePayload returns the typed payload of an event of a known type, such as a
// PaymentFailed for a payment.failed event; consumers switch on its dynamic type. It
// returns an error wrapping [ErrUnknownType] for a custom type, and a *ValidationError
// when the data does not fit the type. It does not run the payload's Validate.
func DecodePayload(e *Event) (Payload, error) {
	k, ok := known[e.Type]
	if !ok {
		return nil, fmt.Errorf("decode payload of %q: %w", e.Type, ErrUnknownType)
	}
	return k.decode(e.Data)
}

// UnmarshalData decodes the event's data into v, as json.Unmarshal does. An event without
// data is a *ValidationError for the field "data".
func (e *Event) UnmarshalData(v any) error {
	if len(e.Data) == 0 {
		return &ValidationError{"data", "is missing"}
	}
	if err := json.Unmarshal(e.Data, v); err != nil {
		return dataError(err)
	}
	return nil
}

func decodeAs[T Payload](data json.RawMessage) (Payload, error) {
	var p T
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ValidationError{"data", "is required for " + p.EventType()}
	}
	p, err := decodeJSON[T](data)
	if err != nil {
		return nil, dataError(err)
	}
	return p, nil
}

// dataError turns a json decoding error into a *ValidationError naming the field.
func dataError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return &ValidationError{"data." + te.Field, fmt.Sprintf("is a JSON %s, want %s", te.Value, te.Type)}
	}
	return &ValidationError{"data", err.Error()}
}
