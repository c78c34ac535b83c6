package emailtest_test

import (
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
	"github.com/heraldhq/herald/internal/channel/email/emailtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// post sends body to the fake with the given headers and returns the status and decoded
// JSON answer.
func post(t *testing.T, r *emailtest.Resend, path, body string, headers map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, r.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := r.Client()
	t.Cleanup(c.CloseIdleConnections)
	resp, raw := fakeprovider.Do(t, c, req)
	return resp.StatusCode, fakeprovider.DecodeJSON(t, raw), resp.Header
}

const okBody = `{"from":"Herald <a@herald.example>","to":["b@acme.example"],"subject":"hi","text":"hello"}`

func TestResendFakeRules(t *testing.T) {
	t.Parallel()
	many := `"` + strings.Repeat(`x@acme.example","`, 50) + `x@acme.example"`
	cases := []struct {
		name       string
		path, body string
		auth       string // "" none, "ok" the right key, else this value
		idem       string
		status     int
		errName    string
	}{
		{"accepted", "/emails", okBody, "ok", "", 200, ""},
		{"to as string", "/emails", `{"from":"a@herald.example","to":"b@acme.example","subject":"s","html":"<p>x</p>"}`, "ok", "", 200, ""},
		{"wrong path", "/email", okBody, "ok", "", 404, "not_found"},
		{"no key", "/emails", okBody, "", "", 401, "missing_api_key"},
		{"wrong key", "/emails", okBody, "Bearer re_nope", "", 403, "invalid_api_key"},
		{"not json", "/emails", `{`, "ok", "", 422, "validation_error"},
		{"unknown field", "/emails", `{"from":"a@herald.example","to":"b@acme.example","subject":"s","text":"t","sender":"x"}`, "ok", "", 422, "validation_error"},
		{"no from", "/emails", `{"to":"b@acme.example","subject":"s","text":"t"}`, "ok", "", 422, "validation_error"},
		{"bad from", "/emails", `{"from":"herald","to":"b@acme.example","subject":"s","text":"t"}`, "ok", "", 422, "invalid_from_address"},
		{"no to", "/emails", `{"from":"a@herald.example","subject":"s","text":"t"}`, "ok", "", 422, "validation_error"},
		{"51 to", "/emails", `{"from":"a@herald.example","to":[` + many + `],"subject":"s","text":"t"}`, "ok", "", 422, "validation_error"},
		{"bad to", "/emails", `{"from":"a@herald.example","to":["nobody"],"subject":"s","text":"t"}`, "ok", "", 422, "validation_error"},
		{"no subject", "/emails", `{"from":"a@herald.example","to":"b@acme.example","text":"t"}`, "ok", "", 422, "validation_error"},
		{"two-line subject", "/emails", `{"from":"a@herald.example","to":"b@acme.example","subject":"a\nb","text":"t"}`, "ok", "", 422, "validation_error"},
		{"no body", "/emails", `{"from":"a@herald.example","to":"b@acme.example","subject":"s"}`, "ok", "", 422, "validation_error"},
		{"bad tag", "/emails", `{"from":"a@herald.example","to":"b@acme.example","subject":"s","text":"t","tags":[{"name":"event.type","value":"x"}]}`, "ok", "", 422, "validation_error"},
		{"long idempotency key", "/emails", okBody, "ok", strings.Repeat("k", 257), 400, "invalid_idempotency_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := emailtest.NewResend(t, emailtest.WithRateLimit(0))
			h := map[string]string{}
			switch c.auth {
			case "":
			case "ok":
				h["Authorization"] = "Bearer " + r.APIKey()
			default:
				h["Authorization"] = c.auth
			}
			if c.idem != "" {
				h["Idempotency-Key"] = c.idem
			}
			status, out, _ := post(t, r, c.path, c.body, h)
			if status != c.status || (c.errName != "" && out["name"] != c.errName) {
				t.Fatalf("answer %d %v, want %d %s", status, out, c.status, c.errName)
			}
			if c.status == 200 {
				if id, _ := out["id"].(string); len(id) != 36 || len(r.Emails()) != 1 {
					t.Fatalf("answer %v, %d emails recorded", out, len(r.Emails()))
				}
				return
			}
			if len(r.Emails()) != 0 || len(r.Rejected()) != 1 || r.Rejected()[0].Name != c.errName {
				t.Fatalf("emails %d, rejected %+v", len(r.Emails()), r.Rejected())
			}
		})
	}
}

func TestResendFakeIdempotency(t *testing.T) {
	t.Parallel()
	r := emailtest.NewResend(t, emailtest.WithRateLimit(0))
	h := map[string]string{"Authorization": "Bearer " + r.APIKey(), "Idempotency-Key": "evt-1:dest"}
	_, first, _ := post(t, r, "/emails", okBody, h)
	_, again, _ := post(t, r, "/emails", okBody, h)
	if first["id"] == nil || first["id"] != again["id"] {
		t.Fatalf("ids %v and %v, want the same", first["id"], again["id"])
	}
	status, out, _ := post(t, r, "/emails", strings.Replace(okBody, "hello", "changed", 1), h)
	if status != http.StatusConflict || out["name"] != "invalid_idempotent_request" {
		t.Fatalf("different body under the same key: %d %v", status, out)
	}
	if n := len(r.Emails()); n != 1 {
		t.Fatalf("%d emails, want 1", n)
	}
}

func TestResendFakeRateLimit(t *testing.T) {
	t.Parallel()
	r := emailtest.NewResend(t, emailtest.WithRateLimit(2))
	h := map[string]string{"Authorization": "Bearer " + r.APIKey()}
	// Three requests within a second of each other: the third, at the latest, is refused
	// (the test cannot hold the clock, so a slow machine may refill half a token).
	var refused bool
	for range 4 {
		status, out, hdr := post(t, r, "/emails", okBody, h)
		if status == http.StatusTooManyRequests {
			refused = true
			if out["name"] != "rate_limit_exceeded" || hdr.Get("Retry-After") == "" || hdr.Get("Ratelimit-Remaining") != "0" ||
				hdr.Get("Ratelimit-Limit") != "2" || hdr.Get("Ratelimit-Reset") == "" {
				t.Fatalf("429 answer %v with headers %v", out, hdr)
			}
		}
	}
	if !refused {
		t.Fatal("four immediate requests were all accepted at 2 per second")
	}
}
