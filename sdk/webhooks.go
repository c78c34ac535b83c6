package sdk

// Standard Webhooks signing and verification.
//
// Herald signs every webhook as the Standard Webhooks specification prescribes
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
// the signed content is "<webhook-id>.<webhook-timestamp>.<body>", the MAC is HMAC-SHA256 keyed
// with the base64-decoded part of a "whsec_" secret, and the webhook-signature header carries
// one "v1,<base64 MAC>" per signing secret, separated by spaces, so that a secret can be
// rotated without downtime. Receivers verify with a Verifier; the spec's reference libraries
// in every language verify Herald's signatures too.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The headers of a Standard Webhooks request. Go's http.Header canonicalises them
// (Webhook-Id), and HTTP header names are case-insensitive, so either spelling works.
// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#webhook-headers-sending-metadata-to-consumers
const (
	// HeaderWebhookID carries the delivery's unique id; it stays the same across retries, so
	// receivers deduplicate on it.
	HeaderWebhookID = "webhook-id"
	// HeaderWebhookTimestamp carries the attempt's time as integer Unix seconds.
	HeaderWebhookTimestamp = "webhook-timestamp"
	// HeaderWebhookSignature carries one or more space-separated "v1,<base64>" signatures.
	HeaderWebhookSignature = "webhook-signature"
)

const (
	// WebhookSecretPrefix starts every symmetric Standard Webhooks secret.
	// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
	WebhookSecretPrefix = "whsec_"
	// MinWebhookSecretBytes is the shortest decoded secret accepted: the spec asks for at least
	// 24 bytes (192 bits).
	// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
	MinWebhookSecretBytes = 24
	// MaxWebhookSecretBytes is the longest decoded secret accepted: the spec's maximum of 512 bits.
	// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#signature-scheme
	MaxWebhookSecretBytes = 64
	// DefaultWebhookTolerance is how far a webhook-timestamp may lie from the receiver's clock,
	// in either direction, before Verify refuses it as a possible replay.
	// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#verifying-signatures
	DefaultWebhookTolerance = 5 * time.Minute

	// signatureVersion identifies a symmetric (HMAC-SHA256) signature.
	signatureVersion = "v1"
	// sigLen is the length of one base64-encoded HMAC-SHA256 MAC.
	sigLen = 44 // base64.StdEncoding.EncodedLen(sha256.Size)

	// The header names in http.Header's canonical form, which looks up without allocating.
	canonicalID        = "Webhook-Id"
	canonicalTimestamp = "Webhook-Timestamp"
	canonicalSignature = "Webhook-Signature"
)

// Errors returned by NewSigner, NewVerifier and Verify. They are wrapped with context and
// never include a secret; compare with errors.Is.
var (
	// ErrInvalidSecret means a secret is not "whsec_" followed by standard base64 of
	// MinWebhookSecretBytes to MaxWebhookSecretBytes bytes.
	ErrInvalidSecret = errors.New("invalid webhook secret")
	// ErrMissingHeaders means a request lacks webhook-id, webhook-timestamp or webhook-signature.
	ErrMissingHeaders = errors.New("missing webhook headers")
	// ErrInvalidHeaders means webhook-timestamp is not an integer.
	ErrInvalidHeaders = errors.New("invalid webhook headers")
	// ErrTimestampTooOld means webhook-timestamp is older than the tolerance allows.
	ErrTimestampTooOld = errors.New("webhook timestamp too old")
	// ErrTimestampTooNew means webhook-timestamp lies further in the future than the
	// tolerance allows.
	ErrTimestampTooNew = errors.New("webhook timestamp too new")
	// ErrInvalidSignature means no signature in webhook-signature matches any secret.
	ErrInvalidSignature = errors.New("no matching webhook signature")
)

// key is one decoded secret with a pool of HMAC states keyed with it, so that signing and
// verifying neither re-decode the secret nor allocate a new HMAC per message.
type key struct {
	pool sync.Pool // of *macState
}

// macState is a reusable HMAC and the scratch buffers one computation needs.
type macState struct {
	mac hash.Hash
	buf []byte            // "<id>.<ts>." prefix of the signed content
	sum [sha256.Size]byte // raw MAC
}

func newKey(secret []byte) *key {
	k := &key{}
	k.pool.New = func() any {
		return &macState{mac: hmac.New(sha256.New, secret), buf: make([]byte, 0, 64)}
	}
	return k
}

// mac computes the raw HMAC-SHA256 of "<msgID>.<unix>.<body>" into a pooled state. The caller
// must hand the state back with k.pool.Put once done with st.sum.
func (k *key) mac(msgID string, unix int64, body []byte) *macState {
	st := k.pool.Get().(*macState)
	st.mac.Reset()
	st.buf = append(st.buf[:0], msgID...)
	st.buf = append(st.buf, '.')
	st.buf = strconv.AppendInt(st.buf, unix, 10)
	st.buf = append(st.buf, '.')
	st.mac.Write(st.buf)
	st.mac.Write(body)
	st.mac.Sum(st.sum[:0])
	return st
}

// parseSecrets decodes a space-separated list of whsec_ secrets. Its errors name the position
// of a bad secret, never its content.
func parseSecrets(secrets string) ([]*key, error) {
	fields := strings.Fields(secrets)
	if len(fields) == 0 {
		return nil, fmt.Errorf("%w: no secret given", ErrInvalidSecret)
	}
	keys := make([]*key, 0, len(fields))
	for i, f := range fields {
		b64, ok := strings.CutPrefix(f, WebhookSecretPrefix)
		if !ok {
			return nil, fmt.Errorf("%w: secret %d of %d does not start with %q", ErrInvalidSecret, i+1, len(fields), WebhookSecretPrefix)
		}
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			// The decoder's error quotes an offset into the secret, not its bytes, but say
			// less anyway: the position of the secret is what an operator needs.
			return nil, fmt.Errorf("%w: secret %d of %d is not standard base64 after %q", ErrInvalidSecret, i+1, len(fields), WebhookSecretPrefix)
		}
		if len(raw) < MinWebhookSecretBytes || len(raw) > MaxWebhookSecretBytes {
			return nil, fmt.Errorf("%w: secret %d of %d decodes to %d bytes, want %d to %d", ErrInvalidSecret, i+1, len(fields), len(raw), MinWebhookSecretBytes, MaxWebhookSecretBytes)
		}
		keys = append(keys, newKey(raw))
	}
	return keys, nil
}

// NewWebhookSecret returns a new random secret in whsec_ form, 32 bytes before encoding.
func NewWebhookSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate webhook secret: %w", err)
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b[:]), nil
}

// Signer signs webhooks with one or more secrets. It is safe for concurrent use and does not
// reveal its secrets when printed.
type Signer struct {
	keys []*key
}

// NewSigner parses one whsec_ secret, or several separated by spaces during a rotation, in
// which case every message is signed with each of them. The error wraps ErrInvalidSecret and
// never contains the secrets.
func NewSigner(secrets string) (*Signer, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, fmt.Errorf("new webhook signer: %w", err)
	}
	return &Signer{keys: keys}, nil
}

// Sign returns the webhook-signature header value for one message: "v1,<base64>" per secret,
// separated by spaces, in the order the secrets were given. ts is truncated to whole seconds,
// as the webhook-timestamp header carries it (see WebhookTimestamp).
//
// msgID should not contain a '.': the spec asks for ids that cannot shift the boundary between
// id, timestamp and body in the signed content.
func (s *Signer) Sign(msgID string, ts time.Time, body []byte) string {
	unix := ts.Unix()
	var b strings.Builder
	b.Grow(len(s.keys)*(len(signatureVersion)+1+sigLen) + len(s.keys) - 1)
	var enc [sigLen]byte
	for i, k := range s.keys {
		st := k.mac(msgID, unix, body)
		base64.StdEncoding.Encode(enc[:], st.sum[:])
		k.pool.Put(st)
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(signatureVersion)
		b.WriteByte(',')
		b.Write(enc[:])
	}
	return b.String()
}

// SetHeaders sets the three Standard Webhooks headers on h for one message sent at ts.
func (s *Signer) SetHeaders(h http.Header, msgID string, ts time.Time, body []byte) {
	h[canonicalID] = []string{msgID}
	h[canonicalTimestamp] = []string{WebhookTimestamp(ts)}
	h[canonicalSignature] = []string{s.Sign(msgID, ts, body)}
}

// NumSecrets reports how many secrets the signer signs with.
func (s *Signer) NumSecrets() int { return len(s.keys) }

// String describes the signer without its secrets.
func (s *Signer) String() string { return fmt.Sprintf("sdk.Signer(%d secrets)", len(s.keys)) }

// GoString describes the signer without its secrets, for %#v.
func (s *Signer) GoString() string { return s.String() }

// WebhookTimestamp formats t as the webhook-timestamp header carries it: integer Unix seconds.
func WebhookTimestamp(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// VerifierOption changes how a Verifier checks requests.
type VerifierOption func(*Verifier)

// WithWebhookTolerance sets how far webhook-timestamp may lie from the current time in either
// direction. Defaults to DefaultWebhookTolerance. A tolerance of zero or less disables the check,
// which leaves receivers open to replayed requests: use it only in tests.
func WithWebhookTolerance(d time.Duration) VerifierOption {
	return func(v *Verifier) { v.tolerance = d }
}

// WithWebhookClock sets the clock that timestamps are checked against. Defaults to time.Now.
func WithWebhookClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) { v.now = now }
}

// Verifier checks the Standard Webhooks headers of incoming requests. It is safe for
// concurrent use and does not reveal its secrets when printed.
type Verifier struct {
	keys      []*key
	tolerance time.Duration
	now       func() time.Time
}

// NewVerifier parses one whsec_ secret, or several separated by spaces while the sender
// rotates them; a request verifies if any of its signatures matches any of the secrets.
// The error wraps ErrInvalidSecret and never contains the secrets.
func NewVerifier(secrets string, opts ...VerifierOption) (*Verifier, error) {
	keys, err := parseSecrets(secrets)
	if err != nil {
		return nil, fmt.Errorf("new webhook verifier: %w", err)
	}
	v := &Verifier{keys: keys, tolerance: DefaultWebhookTolerance, now: time.Now}
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// Verify checks that h carries a webhook-id, a webhook-timestamp within the tolerance of the
// current time and a webhook-signature of which at least one "v1," entry is a valid signature
// of body by one of the verifier's secrets. Signatures are compared in constant time; entries
// of other versions (such as "v1a" for asymmetric signatures) are skipped.
//
// The error wraps one of ErrMissingHeaders, ErrInvalidHeaders, ErrTimestampTooOld,
// ErrTimestampTooNew or ErrInvalidSignature. After a nil error, deduplicate on the webhook-id.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	id := h.Get(canonicalID)
	tsHeader := h.Get(canonicalTimestamp)
	sigHeader := h.Get(canonicalSignature)
	if id == "" || tsHeader == "" || sigHeader == "" {
		return fmt.Errorf("verify webhook: %w", ErrMissingHeaders)
	}
	unix, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return fmt.Errorf("verify webhook: %w: webhook-timestamp is not integer seconds", ErrInvalidHeaders)
	}
	if v.tolerance > 0 {
		now := v.now()
		ts := time.Unix(unix, 0)
		switch {
		case now.Sub(ts) > v.tolerance:
			return fmt.Errorf("verify webhook: %w", ErrTimestampTooOld)
		case ts.Sub(now) > v.tolerance:
			return fmt.Errorf("verify webhook: %w", ErrTimestampTooNew)
		}
	}

	// Decode the offered signatures once; malformed entries can never match.
	var room [4][sha256.Size]byte // enough for a rotation without allocating
	offered := room[:0]
	for _, entry := range strings.Fields(sigHeader) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != signatureVersion || len(sig) != sigLen {
			continue
		}
		// One byte of room past the digest: an unpadded 44-character entry decodes to 33
		// bytes, which must be refused, not written past the end.
		var raw [sha256.Size + 1]byte
		if n, err := base64.StdEncoding.Decode(raw[:], []byte(sig)); err != nil || n != sha256.Size {
			continue
		}
		offered = append(offered, [sha256.Size]byte(raw[:sha256.Size]))
	}
	if len(offered) == 0 {
		return fmt.Errorf("verify webhook: %w", ErrInvalidSignature)
	}

	match := false
	for _, k := range v.keys {
		st := k.mac(id, unix, body)
		for i := range offered {
			// Check every pair rather than stopping at the first match, so that the time
			// taken does not depend on which secret matched.
			if hmac.Equal(st.sum[:], offered[i][:]) {
				match = true
			}
		}
		k.pool.Put(st)
	}
	if !match {
		return fmt.Errorf("verify webhook: %w", ErrInvalidSignature)
	}
	return nil
}

// String describes the verifier without its secrets.
func (v *Verifier) String() string {
	return fmt.Sprintf("sdk.Verifier(%d secrets, tolerance %s)", len(v.keys), v.tolerance)
}

// GoString describes the verifier without its secrets, for %#v.
func (v *Verifier) GoString() string { return v.String() }
