package sdk

import (
	"fmt"
	"time"
)

// Seconds is a duration in a payload, encoded as a JSON number of seconds (90.5, not
// "1m30.5s") so that producers in any language can write it. Convert with [SecondsOf] and
// [Seconds.Duration].
type Seconds float64

// SecondsOf converts a time.Duration to Seconds.
func SecondsOf(d time.Duration) Seconds { return Seconds(d.Seconds()) }

// Duration converts s to a time.Duration, rounding to the nanosecond.
func (s Seconds) Duration() time.Duration { return time.Duration(float64(s) * float64(time.Second)) }

// String formats s as a Go duration, such as "1m30s".
func (s Seconds) String() string { return s.Duration().String() }

// Money amounts in payloads are float64 numbers in the currency's major unit (49.99 is
// forty-nine dollars and ninety-nine cents): they are displayed, never summed, by Herald.

// TenantCreated is the data of a tenant.created event: a tenant signed up.
type TenantCreated struct {
	// Name is the tenant's display name. Required.
	Name string `json:"name"`
	// Email is the address of the tenant's owner. Required.
	Email string `json:"email"`
	// BillingPlan is the plan the tenant chose, such as "pro".
	BillingPlan string `json:"billing_plan"`
}

// EventType returns [TypeTenantCreated].
func (TenantCreated) EventType() string { return TypeTenantCreated }

// Validate checks that Name and Email are set.
func (p TenantCreated) Validate() error {
	return firstError(required("name", p.Name), required("email", p.Email))
}

// NewTenantCreated builds a tenant.created event (default severity info). The tenant is the
// new tenant's id.
func NewTenantCreated(tenant string, p TenantCreated, opts ...Option) (*Event, error) {
	return newTyped(tenant, p, opts)
}

// PaymentSucceeded is the data of a payment.succeeded event.
type PaymentSucceeded struct {
	// TenantName is the paying tenant's display name.
	TenantName string `json:"tenant_name"`
	// Amount is what was paid, in the currency's major unit. Not negative.
	Amount float64 `json:"amount"`
	// Currency is the ISO 4217 code of the amount, such as "USD". Required.
	Currency string `json:"currency"`
	// PaymentID is the payment provider's id of the payment. Required.
	PaymentID string `json:"payment_id"`
}

// EventType returns [TypePaymentSucceeded].
func (PaymentSucceeded) EventType() string { return TypePaymentSucceeded }

// Validate checks that PaymentID and Currency are set and Amount is not negative.
func (p PaymentSucceeded) Validate() error {
	return firstError(required("payment_id", p.PaymentID), required("currency", p.Currency),
		nonNegative("amount", p.Amount))
}

// NewPaymentSucceeded builds a payment.succeeded event (default severity info).
func NewPaymentSucceeded(tenant string, p PaymentSucceeded, opts ...Option) (*Event, error) {
	return newTyped(tenant, p, opts)
}

// PaymentFailed is the data of a payment.failed event.
type PaymentFailed struct {
	// TenantID is the id of the tenant whose payment failed.
	TenantID string `json:"tenant_id"`
	// Reason is why the payment failed, as the provider said it, such as "card declined".
	// Required.
	Reason string `json:"reason"`
	// Amount is what the payment was for, in the currency's major unit. Not negative.
	Amount float64 `json:"amount"`
}

// EventType returns [TypePaymentFailed].
func (PaymentFailed) EventType() string { return TypePaymentFailed }

// Validate checks that Reason is set and Amount is not negative.
func (p PaymentFailed) Validate() error {
	return firstError(required("reason", p.Reason), nonNegative("amount", p.Amount))
}

// NewPaymentFailed builds a payment.failed event (default severity warning).
func NewPaymentFailed(tenant string, p PaymentFailed, opts ...Option) (*Event, error) {
	return newTyped(tenant, p, opts)
}

// NodeLaunched is the data of a node.launched event: a GPU node is up.
type NodeLaunched struct {
	// NodeID identifies the node. Required.
	NodeID string `json:"node_id"`
	// Provider is the cloud the node runs in, such as "aws".
	Provider string `json:"provider"`
	// Region is the provider's region, such as "us-east-1".
	Region string `json:"region"`
	// GPUType is the GPU model, such as "H100".
	GPUType string `json:"gpu_type"`
	// GPUCount is how many GPUs the node has. Not negative.
	GPUCount int `json:"gpu_count"`
	// Model is the model the node serves, such as "llama-3-70b".
	Model string `json:"model"`
	// Spot is true for a spot (preemptible) node, which may be reclaimed.
	Spot bool `json:"spot"`
	// PricePerHour is what the node costs per hour, in the provider's billing currency
	// (usually US dollars). Not negative.
	PricePerHour float64 `json:"price_per_hour"`
	// LaunchDuration is how long the launch took. Not negative.
	LaunchDuration Seconds `json:"launch_duration"`
}

// EventType returns [TypeNodeLaunched].
func (NodeLaunched) EventType() string { return TypeNodeLaunched }

// Validate checks that NodeID is set and that counts, price and duration are not negative.
func (p NodeLaunched) Validate() error {
	return firstError(required("node_id", p.NodeID), nonNegative("gpu_count", float64(p.GPUCount)),
		nonNegative("price_per_hour", p.PricePerHour), nonNegative("launch_duration", float64(p.LaunchDuration)))
}

// NewNodeLaunched builds a node.launched event (default severity info).
func NewNodeLaunched(tenant string, p NodeLaunched, opts ...Option) (*Event, error) {
	return newTyped(tenant, p, opts)
}

// NodeTerminated is the data of a node.terminated event: the provider is about to reclaim
// a spot node, and its workloads must move before TimeRemaining runs out.
type NodeTerminated struct {
	// NodeID identifies the node. Required.
	NodeID string `json:"node_id"`
	// TimeRemaining is how long the node has left. Not negative.
	TimeRemaining Seconds `json:"time_remaining"`
	// Reason is why the node goes, such as "spot instance reclaimed".
	Reason string `json:"reason"`
}

// EventType returns [TypeNodeTerminated].
func (NodeTerminated) EventType() string { return TypeNodeTerminated }

// Validate checks that NodeID is set and TimeRemaining is not negative.
func (p NodeTerminated) Validate() error {
	return firstError(required("node_id", p.NodeID), nonNegative("time_remaining", float64(p.TimeRemaining)))
}

// NewNodeTerminated builds a node.terminated event (default severity critical: a reclaim
// leaves minutes at most).
func NewNodeTerminated(tenant string, p NodeTerminated, opts ...Option) (*Event, error) {
	return newTyped(tenant, p, opts)
}

// NodeHealthDegraded is the data of a node.health_degraded event.
type NodeHealthDegraded struct {
	// NodeID identifies the node. Required.
	NodeID string `json:"node_id"`
	// HealthScore is the node's health on the producer's scale, higher being healthier.
	HealthScore float64 `json:"health_score"`
	// Issues lists what is wrong, such as "gpu 3 ecc errors". Encoded as [] when empty.
	Issues []string `json:"issues"`
}

// EventType returns [TypeNodeHealthDegraded].
func (NodeHealthDegraded) EventType() string { return TypeNodeHealthDegraded }

// Validate checks that NodeID is set.
func (p NodeHealthDegraded) Validate() error { return required("node_id", p.NodeID) }

// NewNodeHealthDegraded builds a node.health_degraded event (default severity warning).
func NewNodeHealthDegraded(tenant string, p NodeHealthDegraded, opts ...Option) (*Event, error) {
	if p.Issues == nil {
		p.Issues = []string{} // consumers in other languages can iterate without a null check
	}
	return newTyped(tenant, p, opts)
}

// CostAnomalyDetected is the data of a cost.anomaly_detected event: spending is well above
// its usual level.
type CostAnomalyDetected struct {
	// CurrentCost is the cost of the current period. Not negative.
	CurrentCost float64 `json:"current_cost"`
	// AverageCost is the usual cost of such a period. Not negative.
	AverageCost float64 `json:"average_cost"`
	// Threshold is the detector's threshold that CurrentCost crossed, by convention a
	// multiple of AverageCost (1.5 means 50% above the average). Not negative.
	Threshold float64 `json:"threshold"`
}

// EventType returns [TypeCostAnomalyDetected].
func (CostAnomalyDetected) EventType() string { return TypeCostAnomalyDetected }

// Validate checks that no figure is negative.
func (p CostAnomalyDetected) Validate() error {
	return firstError(nonNegative("current_cost", p.CurrentCost), nonNegative("average_cost", p.AverageCost),
		nonNegative("threshold", p.Threshold))
}

// NewCostAnomalyDetected builds a cost.anomaly_detected event (default severity warning).
func NewCostAnomalyDetected(tenant string, p CostAnomalyDetected, opts ...Option) (*Event, error) {
	return newTyped(tenant, p, opts)
}

// RateLimitThresholdReached is the data of a ratelimit.threshold_reached event: a tenant
// has used a given share of a rate limit.
type RateLimitThresholdReached struct {
	// Usage is how much of the limit is used, in the limit's unit. Not negative.
	Usage int64 `json:"usage"`
	// Limit is the rate limit. Not negative.
	Limit int64 `json:"limit"`
	// ThresholdPercent is the share of Limit, in percent, whose crossing raised the event,
	// such as 80. Not negative.
	ThresholdPercent float64 `json:"threshold_percent"`
}

// EventType returns [TypeRateLimitThresholdReached].
func (RateLimitThresholdReached) EventType() string { return TypeRateLimitThresholdReached }

// Validate checks that no figure is negative.
func (p RateLimitThresholdReached) Validate() error {
	return firstError(nonNegative("usage", float64(p.Usage)), nonNegative("limit", float64(p.Limit)),
		nonNegative("threshold_percent", p.ThresholdPercent))
}

// NewRateLimitThresholdReached builds a ratelimit.threshold_reached event (default severity
// warning).
func NewRateLimitThresholdReached(tenant string, p RateLimitThresholdReached, opts ...Option) (*Event, error) {
	return newTyped(tenant, p, opts)
}

func required(field, v string) error {
	if v == "" {
		return &ValidationError{"data." + field, "is required"}
	}
	return nil
}

func nonNegative(field string, v float64) error {
	if !(v >= 0) { // also catches NaN
		return &ValidationError{"data." + field, fmt.Sprintf("is %v, must not be negative", v)}
	}
	return nil
}

func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
