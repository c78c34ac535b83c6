package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/api"
)

// noRedirects is a client that shows redirects instead of following them.
func noRedirects(c *http.Client) *http.Client {
	cc := *c
	cc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cc
}

// login starts a session with a JSON login and returns its cookie.
func (f *fixture) login(t *testing.T, token string) *http.Cookie {
	t.Helper()
	a := f.do(t, "POST", "/ui/login", "", map[string]string{"token": token})
	if a.status != http.StatusOK {
		t.Fatalf("login: %s", a)
	}
	c := sessionCookieOf(t, a.header)
	if c == nil || c.Value == "" {
		t.Fatalf("login set no %s cookie: %v", api.SessionCookie, a.header["Set-Cookie"])
	}
	return c
}

func sessionCookieOf(t *testing.T, h http.Header) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == api.SessionCookie {
			return c
		}
	}
	return nil
}

// withSession sends a request authenticated by the cookie, with extra headers.
func (f *fixture) withSession(t *testing.T, method, path string, c *http.Cookie, header map[string]string, body any) answer {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c != nil {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return f.send(t, req)
}

// TestSessionCookie checks the cookie a login sets and what it may do: its attributes, that
// it does not hold the credential in clear, GETs without more, unsafe methods only with the
// CSRF header and the server's own Origin, and a header credential winning over it.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	a := f.do(t, "POST", "/ui/login", "", map[string]string{"token": adminToken})
	if a.status != http.StatusOK {
		t.Fatalf("login: %s", a)
	}
	var who struct {
		Admin  bool   `json:"admin"`
		Tenant string `json:"tenant"`
	}
	if err := json.Unmarshal(a.body, &who); err != nil || !who.Admin || who.Tenant != "" {
		t.Errorf("admin login answered %s", a)
	}
	c := sessionCookieOf(t, a.header)
	if c == nil {
		t.Fatalf("no cookie in %v", a.header)
	}
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge != 12*3600 || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/, Max-Age=43200, not Secure over http", c)
	}
	if strings.Contains(c.Value, adminToken) || strings.Contains(c.Value, "test-admin-token") {
		t.Errorf("the cookie holds the token in clear: %q", c.Value)
	}

	csrf := map[string]string{api.CSRFHeader: "1"}
	for _, tc := range []struct {
		name         string
		method, path string
		header       map[string]string
		want         int
	}{
		{"GET", "GET", "/v1/whoami", nil, 200},
		{"admin GET", "GET", "/admin/tenants/acme/keys", nil, 200},
		{"POST with the CSRF header", "POST", "/admin/tenants/acme/keys", csrf, 201},
		{"POST with the CSRF header and the own Origin", "POST", "/admin/tenants/acme/keys",
			map[string]string{api.CSRFHeader: "1", "Origin": f.srv.URL}, 201},
		{"POST without the CSRF header", "POST", "/admin/tenants/acme/keys", nil, 403},
		{"POST with another CSRF value", "POST", "/admin/tenants/acme/keys", map[string]string{api.CSRFHeader: "yes"}, 403},
		{"POST from a foreign Origin", "POST", "/admin/tenants/acme/keys",
			map[string]string{api.CSRFHeader: "1", "Origin": "https://evil.example"}, 403},
		{"POST from the null Origin", "POST", "/admin/tenants/acme/keys",
			map[string]string{api.CSRFHeader: "1", "Origin": "null"}, 403},
		{"DELETE without the CSRF header", "DELETE", "/admin/tenants/acme/keys/nope", nil, 403},
		{"a wrong header credential wins over the cookie", "GET", "/v1/whoami", map[string]string{"Authorization": "Bearer wrong"}, 401},
	} {
		got := f.withSession(t, tc.method, tc.path, c, tc.header, nil)
		if got.status != tc.want {
			t.Errorf("%s: %s %s = %s, want %d", tc.name, tc.method, tc.path, got, tc.want)
			continue
		}
		if got.status >= 400 {
			want := map[int]string{401: "unauthorized", 403: "forbidden"}[got.status]
			if code := got.errorCode(t); code != want {
				t.Errorf("%s: code %q, want %q", tc.name, code, want)
			}
		}
	}
	// A forbidden POST changed nothing: two keys, from the two allowed POSTs.
	if a := f.do(t, "GET", "/admin/tenants/acme/keys", adminToken, nil); strings.Count(string(a.body), `"id"`) != 2 {
		t.Errorf("keys after the session's POSTs: %s, want the 2 the allowed POSTs made", a)
	}
}

// TestSessionTampered checks that a cookie altered in any byte, or sealed under another
// admin token, is a 401 counted as a failed authentication, and that one sealed by another
// replica with the same admin token works.
func TestSessionTampered(t *testing.T) {
	t.Parallel()
	f := setup(t, func(d *api.Deps) { d.AuthFailureBurst = 3 })
	c := f.login(t, adminToken)

	other := httptest.NewServer(api.New(api.Deps{AdminToken: adminToken, Keys: f.store, Now: f.clock.Now}))
	t.Cleanup(other.Close)
	replica := &fixture{srv: other, client: other.Client()}
	if a := replica.withSession(t, "GET", "/v1/whoami", c, nil, nil); a.status != http.StatusOK {
		t.Errorf("another replica with the same admin token refused the session: %s", a)
	}
	foreign := httptest.NewServer(api.New(api.Deps{AdminToken: "another-admin-token-0123456789", Keys: f.store, Now: f.clock.Now}))
	t.Cleanup(foreign.Close)
	if a := (&fixture{srv: foreign, client: foreign.Client()}).withSession(t, "GET", "/v1/whoami", c, nil, nil); a.status != http.StatusUnauthorized {
		t.Errorf("a server with another admin token accepted the session: %s", a)
	}

	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for _, v := range []string{flip(c.Value, 0), flip(c.Value, len(c.Value)/2), c.Value[:len(c.Value)-4], "garbage", adminToken} {
		a := f.withSession(t, "GET", "/v1/whoami", &http.Cookie{Name: api.SessionCookie, Value: v}, nil, nil)
		if a.status == http.StatusTooManyRequests {
			break // the failures were counted
		}
		if a.status != http.StatusUnauthorized || a.errorCode(t) != "unauthorized" {
			t.Errorf("cookie %q: %s, want 401", v, a)
		}
	}
	// Three failures were allowed; the address is now slowed down, even with the good cookie.
	if a := f.withSession(t, "GET", "/v1/whoami", c, nil, nil); a.status != http.StatusTooManyRequests {
		t.Errorf("after tampered cookies: %s, want 429", a)
	}
}

// TestSessionTenant checks that a tenant's session sees only its tenant, and ends when its
// key is revoked.
func TestSessionTenant(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	acme := f.newKey(t, "acme")
	a := f.do(t, "POST", "/ui/login", "", map[string]string{"token": acme.Key})
	if a.status != http.StatusOK || !strings.Contains(string(a.body), `"admin":false`) || !strings.Contains(string(a.body), `"tenant":"acme"`) {
		t.Fatalf("tenant login answered %s", a)
	}
	c := sessionCookieOf(t, a.header)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/v1/whoami", 200},
		{"/v1/event-types", 200},
		{"/v1/tenants/acme/destinations", 503}, // acme's: past authentication (no service here)
		{"/v1/tenants/globex/destinations", 404},
		{"/admin/tenants/acme/keys", 403},
		{"/admin/notifications/status", 403},
	} {
		if got := f.withSession(t, "GET", tc.path, c, nil, nil); got.status != tc.want {
			t.Errorf("acme's session: GET %s = %s, want %d", tc.path, got, tc.want)
		}
	}
	if got := f.withSession(t, "GET", "/v1/whoami", c, nil, nil); string(got.body) != `{"admin":false,"tenant":"acme"}`+"\n" {
		t.Errorf("whoami = %s", got)
	}
	if a := f.do(t, "DELETE", "/admin/tenants/acme/keys/"+acme.ID, adminToken, nil); a.status != http.StatusNoContent {
		t.Fatalf("revoke: %s", a)
	}
	if got := f.withSession(t, "GET", "/v1/whoami", c, nil, nil); got.status != http.StatusUnauthorized {
		t.Errorf("the session of a revoked key: %s, want 401", got)
	}
}

// TestSessionExpiry checks that the server ends a session after 12 hours whatever the
// browser keeps, without counting it as a failure.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	f := setup(t, func(d *api.Deps) { d.AuthFailureBurst = 1 })
	c := f.login(t, adminToken)
	f.clock.Advance(12*time.Hour - time.Second)
	if a := f.withSession(t, "GET", "/v1/whoami", c, nil, nil); a.status != http.StatusOK {
		t.Errorf("a session of 11h59m59s: %s", a)
	}
	f.clock.Advance(time.Second)
	for range 3 {
		if a := f.withSession(t, "GET", "/v1/whoami", c, nil, nil); a.status != http.StatusUnauthorized {
			t.Errorf("a session of 12h: %s, want 401 (and not 429: an expiry is no guess)", a)
		}
	}
}

// TestLoginForm checks the form login's redirects, the failures it counts, logout, and the
// Secure attribute over TLS.
func TestLoginForm(t *testing.T) {
	t.Parallel()
	f := setup(t, func(d *api.Deps) { d.AuthFailureBurst = 2 })
	f.client = noRedirects(f.client)
	post := func(path, body string, header map[string]string) answer {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", f.srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range header {
			req.Header.Set(k, v)
		}
		return f.send(t, req)
	}
	a := post("/ui/login", "token="+url.QueryEscape(adminToken), map[string]string{"Origin": f.srv.URL})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/" || sessionCookieOf(t, a.header) == nil {
		t.Fatalf("form login: %s %v", a, a.header)
	}
	c := sessionCookieOf(t, a.header)
	if got := f.withSession(t, "GET", "/v1/whoami", c, nil, nil); got.status != http.StatusOK {
		t.Errorf("the form login's session: %s", got)
	}
	if a := post("/ui/login", "token="+url.QueryEscape(adminToken), map[string]string{"Origin": "https://evil.example"}); a.status != http.StatusForbidden {
		t.Errorf("a login from a foreign Origin: %s, want 403", a)
	}

	// Logout clears the cookie and sends the browser to the login page.
	a = post("/ui/logout", "", nil)
	cleared := sessionCookieOf(t, a.header)
	if a.status != http.StatusSeeOther || a.header.Get("Location") != "/ui/login" || cleared == nil || cleared.Value != "" || cleared.MaxAge >= 0 {
		t.Errorf("logout: %s %v", a, a.header)
	}

	// Two wrong tokens are allowed (the burst), then the address is slowed down.
	for i, want := range []string{"/ui/login?error=1", "/ui/login?error=1", "/ui/login?error=rate_limited"} {
		a := post("/ui/login", "token=wrong", nil)
		if a.status != http.StatusSeeOther || a.header.Get("Location") != want || sessionCookieOf(t, a.header) != nil {
			t.Errorf("wrong form login %d: %s Location %q, want 303 to %s and no cookie", i+1, a, a.header.Get("Location"), want)
		}
	}
	if a := f.do(t, "POST", "/ui/login", "", map[string]string{"token": "wrong"}); a.status != http.StatusTooManyRequests {
		t.Errorf("a JSON login of a slowed-down address: %s, want 429", a)
	}

	// Over TLS the cookie is Secure.
	tls := httptest.NewTLSServer(api.New(api.Deps{AdminToken: adminToken, Keys: f.store}))
	t.Cleanup(tls.Close)
	tf := &fixture{srv: tls, client: tls.Client()}
	if c := tf.login(t, adminToken); !c.Secure {
		t.Errorf("a login over TLS set %+v, want Secure", c)
	}
}

// TestLoginJSONErrors checks the JSON login's refusals.
func TestLoginJSONErrors(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	for _, tc := range []struct {
		body any
		want int
	}{
		{map[string]string{"token": "wrong"}, 401},
		{map[string]string{"token": ""}, 400},
		{`{"tokn":"x"}`, 400},
		{"", 400},
	} {
		if a := f.do(t, "POST", "/ui/login", "", tc.body); a.status != tc.want || sessionCookieOf(t, a.header) != nil {
			t.Errorf("login %v: %s, want %d and no cookie", tc.body, a, tc.want)
		}
	}
	// Without an admin token there are no sessions to seal.
	off := httptest.NewServer(api.New(api.Deps{Keys: f.store}))
	t.Cleanup(off.Close)
	k := f.newKey(t, "acme")
	if a := (&fixture{srv: off, client: off.Client()}).do(t, "POST", "/ui/login", "", map[string]string{"token": k.Key}); a.status != http.StatusServiceUnavailable {
		t.Errorf("login on a server without an admin token: %s, want 503", a)
	}
}
