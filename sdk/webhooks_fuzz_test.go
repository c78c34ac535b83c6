package sdk_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// fuzzSecrets are the secrets the verifier fuzz targets sign and verify with: a rotation of
// the spec vector's secret and a fresh-looking one of the maximum length.
var fuzzSecrets = []string{
	vectorSecret,
	"whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, sdk.MaxWebhookSecretBytes)),
}

// referenceMAC is the Standard Webhooks signature computed from the spec, independently of
// the SDK: HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed with the decoded secret.
func referenceMAC(secret, id, ts string, body []byte) []byte {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, sdk.WebhookSecretPrefix))
	if err != nil {
		panic("test secret: " + err.Error()) // the secrets are constants above
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return mac.Sum(nil)
}

// verifyErrors are the sentinels Verify documents; every error it returns wraps one.
var verifyErrors = []error{sdk.ErrMissingHeaders, sdk.ErrInvalidHeaders, sdk.ErrTimestampTooOld,
	sdk.ErrTimestampTooNew, sdk.ErrInvalidSignature}

// FuzzVerify: whatever headers and body a request carries, Verify does not panic, its error
// is one of the documented ones and names no secret, it accepts a request exactly when one
// of the offered v1 signatures is the spec's HMAC under one of its secrets, and it accepts
// every request that carries the spec's signature in canonical form.
func FuzzVerify(f *testing.F) {
	good := base64.StdEncoding.EncodeToString(referenceMAC(vectorSecret, vectorID, strconv.Itoa(vectorTimestamp), []byte(vectorPayload)))
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), vectorSignature, []byte(vectorPayload), int64(0))
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), "v1a,xyz v1,"+good+" v2,abc", []byte(vectorPayload), int64(60))
	f.Add(vectorID, strconv.Itoa(vectorTimestamp), "v1,"+good, []byte(vectorPayload), int64(-301))
	f.Add("", "", "", []byte(nil), int64(0))
	f.Add("msg", "nan", "v1,", []byte("{}"), int64(0))
	f.Add("msg", "-9223372036854775808", "v1,"+strings.Repeat("A", 43)+"=", []byte("x"), int64(1<<40))
	f.Add("msg", "1614265330", "v1,"+strings.Repeat("A", 42)+"==", []byte("x"), int64(0))
	f.Add("msg", "+1614265330", "\tv1,"+good+"\t", []byte(vectorPayload), int64(0))
	f.Add("a.b", "1614265330", strings.Repeat("v1,"+good+" ", 9), []byte(""), int64(0))

	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, skew int64) {
		// The receiver's clock is the timestamp's value, if it is one, moved by up to ten
		// minutes either way; at the ends of the int64 range, where the sum would overflow,
		// not moved.
		unix, tsErr := strconv.ParseInt(ts, 10, 64)
		skew %= int64(10 * time.Minute / time.Second)
		if unix > math.MaxInt64/2 || unix < math.MinInt64/2 {
			skew = 0
		}
		now := time.Unix(unix+skew, 0)
		v, err := sdk.NewVerifier(strings.Join(fuzzSecrets, " "), sdk.WithWebhookClock(func() time.Time { return now }))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(sdk.HeaderWebhookID, id)
		h.Set(sdk.HeaderWebhookTimestamp, ts)
		h.Set(sdk.HeaderWebhookSignature, sig)

		err = v.Verify(h, body)

		if err != nil {
			known := false
			for _, want := range verifyErrors {
				known = known || errors.Is(err, want)
			}
			if !known {
				t.Errorf("Verify error %q wraps none of the documented errors", err)
			}
			for _, s := range fuzzSecrets {
				if strings.Contains(err.Error(), strings.TrimPrefix(s, sdk.WebhookSecretPrefix)) {
					t.Errorf("Verify error %q contains a secret", err)
				}
			}
		}

		// What the spec says, computed here: the headers as Verify reads them (http.Header
		// drops nothing Set was given, but Get returns "" for an empty value).
		id, ts, sig = h.Get(sdk.HeaderWebhookID), h.Get(sdk.HeaderWebhookTimestamp), h.Get(sdk.HeaderWebhookSignature)
		if id == "" || ts == "" || sig == "" {
			if !errors.Is(err, sdk.ErrMissingHeaders) {
				t.Errorf("a request without every header: Verify = %v, want ErrMissingHeaders", err)
			}
			return
		}
		if tsErr != nil {
			if !errors.Is(err, sdk.ErrInvalidHeaders) {
				t.Errorf("webhook-timestamp %q is not an integer: Verify = %v, want ErrInvalidHeaders", ts, err)
			}
			return
		}
		tolerance := int64(sdk.DefaultWebhookTolerance / time.Second)
		within := -tolerance <= skew && skew <= tolerance
		// The signed content carries the timestamp as Verify parsed it: "+5" and "05" sign as 5.
		signedTS := strconv.FormatInt(unix, 10)
		canonical, authentic := false, false
		for _, entry := range strings.Fields(sig) {
			version, offered, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" {
				continue
			}
			raw, decErr := base64.StdEncoding.DecodeString(offered)
			for _, s := range fuzzSecrets {
				mac := referenceMAC(s, id, signedTS, body)
				canonical = canonical || offered == base64.StdEncoding.EncodeToString(mac)
				authentic = authentic || (decErr == nil && hmac.Equal(raw, mac))
			}
		}
		switch {
		case err == nil && !authentic:
			t.Errorf("Verify accepted signature %q, which is not the HMAC of the request under any secret", sig)
		case err == nil && !within:
			t.Errorf("Verify accepted a timestamp %d s from the clock", skew)
		case err != nil && canonical && within:
			t.Errorf("Verify refused a request signed as the spec says: %v", err)
		}
	})
}

// FuzzSignVerify: a request signed by the Signer verifies, with the secrets in any order and
// with each secret of a rotation alone, for any id, time and body; a changed body or another
// secret does not verify.
func FuzzSignVerify(f *testing.F) {
	f.Add(vectorID, int64(vectorTimestamp), []byte(vectorPayload), false)
	f.Add("01JABCDEFGHJKMNPQRSTVWXYZ0:webhook", int64(0), []byte(nil), true)
	f.Add("id with spaces:and:colons", int64(-1), []byte("\x00\xff"), true)
	f.Add("a.b", int64(1<<62), []byte(`{"x":1}`), false)
	f.Add("é\u2028", int64(-1<<62), bytes.Repeat([]byte("z"), 4096), true)

	f.Fuzz(func(t *testing.T, id string, unix int64, body []byte, rotate bool) {
		secrets := fuzzSecrets[:1]
		if rotate {
			secrets = fuzzSecrets
		}
		s, err := sdk.NewSigner(strings.Join(secrets, " "))
		if err != nil {
			t.Fatal(err)
		}
		at := time.Unix(unix, 0)
		h := http.Header{}
		s.SetHeaders(h, id, at, body)
		if got := h.Get(sdk.HeaderWebhookTimestamp); got != strconv.FormatInt(unix, 10) {
			t.Fatalf("webhook-timestamp = %q, want %d", got, unix)
		}
		if got := len(strings.Fields(h.Get(sdk.HeaderWebhookSignature))); got != len(secrets) {
			t.Fatalf("%d signatures for %d secrets", got, len(secrets))
		}
		clock := sdk.WithWebhookClock(func() time.Time { return at })

		verifiers := []string{strings.Join(secrets, " ")}
		if rotate {
			// During a rotation a receiver may hold either secret alone, or both in any order.
			verifiers = append(verifiers, secrets[0], secrets[1], secrets[1]+" "+secrets[0])
		}
		for _, vs := range verifiers {
			v, err := sdk.NewVerifier(vs, clock)
			if err != nil {
				t.Fatal(err)
			}
			err = v.Verify(h, body)
			if id == "" {
				// A request without a webhook-id cannot be deduplicated: Verify refuses it.
				if !errors.Is(err, sdk.ErrMissingHeaders) {
					t.Fatalf("Verify of a signed request without id = %v, want ErrMissingHeaders", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Verify of what the Signer signed (id %q, time %d, %d-byte body, %d secrets, verifier with %d): %v",
					id, unix, len(body), len(secrets), len(strings.Fields(vs)), err)
			}
			if err := v.Verify(h, append(bytes.Clone(body), '!')); !errors.Is(err, sdk.ErrInvalidSignature) {
				t.Fatalf("Verify of a changed body = %v, want ErrInvalidSignature", err)
			}
		}
		if id == "" {
			return
		}
		other, err := sdk.NewVerifier(mustSecret(t), clock)
		if err != nil {
			t.Fatal(err)
		}
		if err := other.Verify(h, body); !errors.Is(err, sdk.ErrInvalidSignature) {
			t.Fatalf("Verify with another secret = %v, want ErrInvalidSignature", err)
		}
	})
}
