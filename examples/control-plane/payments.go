package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// The payment provider's webhooks follow Stripe's scheme: the header Stripe-Signature
// holds "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the endpoint's
// signing secret>", with several v1 entries while a secret is being rolled.
// https://docs.stripe.com/webhooks#verify-manually
const signatureHeader = "Stripe-Signature"

// Errors of verifySignature.
var (
	errNoSignature  = errors.New("no " + signatureHeader + " header with t= and v1=")
	errBadSignature = errors.New("no v1 signature matches the body")
	errStale        = errors.New("the signature's timestamp is outside the tolerance")
)

// verifySignature checks a Stripe-Signature header against the raw body. The timestamp
// bounds replays of a captured request; hmac.Equal keeps the comparison constant-time.
func verifySignature(header string, body []byte, secret string, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
		case k == "t":
			ts = v
		case k == "v1":
			sigs = append(sigs, v)
		}
	}
	if ts == "" || len(sigs) == 0 {
		return errNoSignature
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errNoSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return errStale
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return errBadSignature
}

// sign returns a Stripe-Signature header for body at t, as the provider sends it; the
// tests and the docs' curl example use it.
func sign(body []byte, secret string, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// paymentEvent is the part of the provider's event this service reads: a PaymentIntent
// that succeeded or failed.
type paymentEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID               string            `json:"id"`
			Amount           int64             `json:"amount"` // in the currency's smallest unit
			Currency         string            `json:"currency"`
			Metadata         map[string]string `json:"metadata"`
			LastPaymentError *struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"last_payment_error"`
		} `json:"object"`
	} `json:"data"`
}

// The provider's event types this service turns into Herald events.
const (
	paymentSucceeded = "payment_intent.succeeded"
	paymentFailed    = "payment_intent.payment_failed"
)

// paymentWebhook verifies the provider's signature and publishes payment.succeeded or
// payment.failed. Other event types are acknowledged and ignored, as providers expect.
// The Herald event's id is derived from the provider's event id: providers deliver a
// webhook at least once, and a redelivery must not notify twice.
func (s *Server) paymentWebhook(w http.ResponseWriter, r *http.Request) {
	if s.c.PaymentsSecret == "" {
		writeError(w, http.StatusServiceUnavailable, "payment webhooks are not configured (PAYMENTS_WEBHOOK_SECRET)")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if err := verifySignature(r.Header.Get(signatureHeader), body, s.c.PaymentsSecret, s.c.PaymentsTolerance, s.c.Now()); err != nil {
		s.c.Log.Warn("payment webhook refused", "err", err)
		writeError(w, http.StatusBadRequest, "signature: "+err.Error())
		return
	}
	var pe paymentEvent
	if err := json.Unmarshal(body, &pe); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if pe.Type != paymentSucceeded && pe.Type != paymentFailed {
		writeJSON(w, http.StatusOK, map[string]any{"ignored": pe.Type})
		return
	}
	ev, err := paymentToEvent(pe)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ack, ok := s.publish(r.Context(), w, ev)
	if !ok {
		return // 503: the provider retries the webhook later
	}
	writeJSON(w, http.StatusOK, map[string]any{"event_id": ev.ID, "duplicate": ack.Duplicate})
}

// paymentToEvent maps the provider's event onto Herald's payment types. The tenant comes
// from the PaymentIntent's metadata (tenant_id, tenant_name), which the billing code set
// when it created the payment.
func paymentToEvent(pe paymentEvent) (*sdk.Event, error) {
	obj := pe.Data.Object
	if pe.ID == "" {
		return nil, errors.New("id: the provider's event id is required")
	}
	tenant := obj.Metadata["tenant_id"]
	amount := majorUnits(obj.Amount, obj.Currency)
	opts := []sdk.Option{sdk.WithID("payment-" + pe.ID), sdk.WithSource("control-plane/billing")}
	if pe.Type == paymentSucceeded {
		name := obj.Metadata["tenant_name"]
		if name == "" {
			name = tenant
		}
		return sdk.NewPaymentSucceeded(tenant, sdk.PaymentSucceeded{
			TenantName: name, Amount: amount, Currency: strings.ToUpper(obj.Currency), PaymentID: obj.ID,
		}, opts...)
	}
	reason := "payment failed"
	if e := obj.LastPaymentError; e != nil && e.Message != "" {
		reason = e.Message
	}
	return sdk.NewPaymentFailed(tenant, sdk.PaymentFailed{TenantID: tenant, Reason: reason, Amount: amount}, opts...)
}

// zeroDecimal lists the currencies whose amounts the provider gives in whole units.
// https://docs.stripe.com/currencies#zero-decimal
var zeroDecimal = map[string]bool{
	"bif": true, "clp": true, "djf": true, "gnf": true, "jpy": true, "kmf": true, "krw": true, "mga": true,
	"pyg": true, "rwf": true, "ugx": true, "vnd": true, "vuv": true, "xaf": true, "xof": true, "xpf": true,
}

// majorUnits converts an amount in the currency's smallest unit (cents) to the major unit
// Herald's payloads carry (dollars).
func majorUnits(amount int64, currency string) float64 {
	if zeroDecimal[strings.ToLower(currency)] {
		return float64(amount)
	}
	return float64(amount) / 100
}
