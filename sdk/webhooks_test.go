package sdk_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald/sdk"
)

// The reference library's own test vector: secret, id, timestamp, payload and signature from
// https://github.com/standard-webhooks/standard-webhooks/blob/main/libraries/go/webhook_test.go
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorPayload   = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func mustSecret(t testing.TB) string {
	t.Helper()
	s, err := sdk.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func headers(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(sdk.HeaderWebhookID, id)
	h.Set(sdk.HeaderWebhookTimestamp, sdk.WebhookTimestamp(ts))
	h.Set(sdk.HeaderWebhookSignature, sig)
	return h
}

func TestWebhookSignMatchesSpecVector(t *testing.T) {
	t.Parallel()
	s, err := sdk.NewSigner(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Sign(vectorID, time.Unix(vectorTimestamp, 0), []byte(vectorPayload)); got != vectorSignature {
		t.Fatalf("Sign = %q, want the spec library's %q", got, vectorSignature)
	}
}

func TestWebhookHeraldSignsStandardVerifies(t *testing.T) {
	t.Parallel()
	secret := mustSecret(t)
	s, err := sdk.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"specversion":"1.0","id":"01J","type":"payment.failed"}`)
	h := http.Header{}
	s.SetHeaders(h, "01J:dest", time.Now(), body)
	if err := ref.Verify(body, h); err != nil {
		t.Fatalf("reference library rejects Herald's signature: %v", err)
	}
	if err := ref.Verify(append(body, ' '), h); err == nil {
		t.Fatal("reference library accepts a tampered body")
	}
}

func TestWebhookStandardSignsHeraldVerifies(t *testing.T) {
	t.Parallel()
	secret := mustSecret(t)
	ref, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdk.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"hello":"world"}`)
	now := time.Now()
	sig, err := ref.Sign("msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(headers("msg_1", now, sig), body); err != nil {
		t.Fatalf("Herald rejects the reference library's signature: %v", err)
	}
}

func TestWebhookRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := mustSecret(t), mustSecret(t)
	s, err := sdk.NewSigner(newSecret + "  " + oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	if s.NumSecrets() != 2 {
		t.Fatalf("NumSecrets() = %d, want 2", s.NumSecrets())
	}
	body := []byte(`{}`)
	now := time.Now()
	sig := s.Sign("msg_rot", now, body)
	if parts := strings.Split(sig, " "); len(parts) != 2 || !strings.HasPrefix(parts[0], "v1,") || !strings.HasPrefix(parts[1], "v1,") {
		t.Fatalf("rotation header = %q, want two space-separated v1 signatures", sig)
	}
	h := headers("msg_rot", now, sig)

	// A receiver that knows either secret accepts the message, both with the reference
	// library and with Herald's verifier.
	for name, secret := range map[string]string{"old": oldSecret, "new": newSecret} {
		ref, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := ref.Verify(body, h); err != nil {
			t.Errorf("reference library with the %s secret: %v", name, err)
		}
		v, err := sdk.NewVerifier(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Verify(h, body); err != nil {
			t.Errorf("Herald verifier with the %s secret: %v", name, err)
		}
	}

	// A receiver in the middle of its own rotation holds both secrets and accepts a message
	// signed with only one of them.
	single, err := sdk.NewSigner(oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sdk.NewVerifier(newSecret + " " + oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(headers("msg_rot", now, single.Sign("msg_rot", now, body)), body); err != nil {
		t.Errorf("two-secret verifier rejects a one-secret signature: %v", err)
	}

	// An unrelated secret matches nothing.
	other, err := sdk.NewVerifier(mustSecret(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Verify(h, body); !errors.Is(err, sdk.ErrInvalidSignature) {
		t.Errorf("unrelated secret: err = %v, want ErrInvalidSignature", err)
	}
}

func TestWebhookVerifyFailures(t *testing.T) {
	t.Parallel()
	secret := mustSecret(t)
	s, err := sdk.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	v, err := sdk.NewVerifier(secret, sdk.WithWebhookClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"amount":100}`)
	good := func(ts time.Time) http.Header { return headers("msg_x", ts, s.Sign("msg_x", ts, body)) }

	cases := []struct {
		name   string
		header http.Header
		body   []byte
		want   error
	}{
		{"valid", good(now), body, nil},
		{"valid at the edge of the tolerance", good(now.Add(-sdk.DefaultWebhookTolerance)), body, nil},
		{"tampered body", good(now), []byte(`{"amount":1000}`), sdk.ErrInvalidSignature},
		{"old timestamp", good(now.Add(-sdk.DefaultWebhookTolerance - time.Second)), body, sdk.ErrTimestampTooOld},
		{"future timestamp", good(now.Add(sdk.DefaultWebhookTolerance + time.Second)), body, sdk.ErrTimestampTooNew},
		{"timestamp changed after signing", func() http.Header {
			h := good(now)
			h.Set(sdk.HeaderWebhookTimestamp, sdk.WebhookTimestamp(now.Add(time.Second)))
			return h
		}(), body, sdk.ErrInvalidSignature},
		{"id changed after signing", func() http.Header {
			h := good(now)
			h.Set(sdk.HeaderWebhookID, "msg_y")
			return h
		}(), body, sdk.ErrInvalidSignature},
		{"missing id", func() http.Header { h := good(now); h.Del(sdk.HeaderWebhookID); return h }(), body, sdk.ErrMissingHeaders},
		{"missing timestamp", func() http.Header { h := good(now); h.Del(sdk.HeaderWebhookTimestamp); return h }(), body, sdk.ErrMissingHeaders},
		{"missing signature", func() http.Header { h := good(now); h.Del(sdk.HeaderWebhookSignature); return h }(), body, sdk.ErrMissingHeaders},
		{"timestamp not an integer", func() http.Header {
			h := good(now)
			h.Set(sdk.HeaderWebhookTimestamp, now.Format(time.RFC3339))
			return h
		}(), body, sdk.ErrInvalidHeaders},
		{"garbage signatures", headers("msg_x", now, "v1 v1, v1,!!!! v2,abc v1a,"+strings.Repeat("A", 88)), body, sdk.ErrInvalidSignature},
		{"right signature, wrong version", func() http.Header {
			h := good(now)
			h.Set(sdk.HeaderWebhookSignature, "v2,"+strings.TrimPrefix(h.Get(sdk.HeaderWebhookSignature), "v1,"))
			return h
		}(), body, sdk.ErrInvalidSignature},
		{"one good among bad", func() http.Header {
			h := good(now)
			h.Set(sdk.HeaderWebhookSignature, "v1,bad v1a,xyz "+h.Get(sdk.HeaderWebhookSignature))
			return h
		}(), body, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := v.Verify(c.header, c.body)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

func TestWebhookTolerance(t *testing.T) {
	t.Parallel()
	secret := mustSecret(t)
	s, _ := sdk.NewSigner(secret)
	body := []byte(`{}`)
	old := time.Now().Add(-time.Hour)
	h := headers("msg_t", old, s.Sign("msg_t", old, body))

	strict, _ := sdk.NewVerifier(secret)
	if err := strict.Verify(h, body); !errors.Is(err, sdk.ErrTimestampTooOld) {
		t.Fatalf("default tolerance: err = %v, want ErrTimestampTooOld", err)
	}
	lenient, _ := sdk.NewVerifier(secret, sdk.WithWebhookTolerance(2*time.Hour))
	if err := lenient.Verify(h, body); err != nil {
		t.Fatalf("two-hour tolerance: %v", err)
	}
}

func TestWebhookInvalidSecrets(t *testing.T) {
	t.Parallel()
	short := sdk.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, sdk.MinWebhookSecretBytes-1))
	long := sdk.WebhookSecretPrefix + base64.StdEncoding.EncodeToString(make([]byte, sdk.MaxWebhookSecretBytes+1))
	noPrefix := strings.TrimPrefix(vectorSecret, sdk.WebhookSecretPrefix)
	notBase64 := "whsec_this-is-definitely!not*base64@@@@"
	for name, secret := range map[string]string{
		"empty":          "",
		"blank":          "   ",
		"no prefix":      noPrefix,
		"not base64":     notBase64,
		"too short":      short,
		"too long":       long,
		"one bad of two": vectorSecret + " " + notBase64,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, errS := sdk.NewSigner(secret)
			_, errV := sdk.NewVerifier(secret)
			for _, err := range []error{errS, errV} {
				if !errors.Is(err, sdk.ErrInvalidSecret) {
					t.Fatalf("err = %v, want ErrInvalidSecret", err)
				}
				// No part of any secret may appear in the message.
				for _, part := range strings.Fields(secret) {
					p := strings.TrimPrefix(part, sdk.WebhookSecretPrefix)
					if len(p) >= 4 && strings.Contains(err.Error(), p) {
						t.Fatalf("error %q reveals the secret", err)
					}
				}
			}
		})
	}
}

func TestWebhookSignerDoesNotPrintSecrets(t *testing.T) {
	t.Parallel()
	s, _ := sdk.NewSigner(vectorSecret)
	v, _ := sdk.NewVerifier(vectorSecret)
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vectorSecret, sdk.WebhookSecretPrefix))
	for _, out := range []string{
		fmt.Sprintf("%v %+v %#v %s", s, s, s, s),
		fmt.Sprintf("%v %+v %#v %s", v, v, v, v),
	} {
		if strings.Contains(out, strings.TrimPrefix(vectorSecret, sdk.WebhookSecretPrefix)) || strings.Contains(out, string(raw)) ||
			strings.Contains(out, fmt.Sprint(raw)) {
			t.Errorf("printing reveals the secret: %s", out)
		}
	}
}

func TestWebhookConcurrentSign(t *testing.T) {
	t.Parallel()
	s, _ := sdk.NewSigner(vectorSecret)
	ts := time.Unix(vectorTimestamp, 0)
	done := make(chan string)
	for range 16 {
		go func() {
			var got string
			for range 100 {
				got = s.Sign(vectorID, ts, []byte(vectorPayload))
				if got != vectorSignature {
					break
				}
			}
			done <- got
		}()
	}
	for range 16 {
		if got := <-done; got != vectorSignature {
			t.Fatalf("concurrent Sign = %q, want %q", got, vectorSignature)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	s, err := sdk.NewSigner(vectorSecret)
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(strings.Repeat(`{"k":"v"}`, 100))
	ts := time.Now()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		_ = s.Sign("01JABCDEFGHJKMNPQRSTVWXYZ0:webhook", ts, body)
	}
}

func BenchmarkVerify(b *testing.B) {
	s, _ := sdk.NewSigner(vectorSecret)
	v, _ := sdk.NewVerifier(vectorSecret)
	body := []byte(strings.Repeat(`{"k":"v"}`, 100))
	ts := time.Now()
	h := headers("01JABCDEFGHJKMNPQRSTVWXYZ0:webhook", ts, s.Sign("01JABCDEFGHJKMNPQRSTVWXYZ0:webhook", ts, body))
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := v.Verify(h, body); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWebhookCanonicalHeaderNames(t *testing.T) {
	t.Parallel()
	for _, name := range []string{sdk.HeaderWebhookID, sdk.HeaderWebhookTimestamp, sdk.HeaderWebhookSignature} {
		h := http.Header{}
		s, _ := sdk.NewSigner(vectorSecret)
		s.SetHeaders(h, "msg", time.Now(), nil)
		if h.Get(name) == "" {
			t.Errorf("SetHeaders did not set %s", name)
		}
	}
}
