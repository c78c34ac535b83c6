package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/testutil"
)

func TestMain(m *testing.M) {
	testutil.MainWithPostgres(m,
		goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

const adminToken = "test-admin-token-0123456789"

// fixture is an API over a real, migrated PostgreSQL ledger, served by httptest.
type fixture struct {
	srv    *httptest.Server
	store  *postgres.Store
	dbURL  string
	clock  *clock
	client *http.Client
}

// clock is a settable time for the limiter and durations.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// setup starts the API; edit changes its Deps before it is built.
func setup(t *testing.T, edit func(*api.Deps)) *fixture {
	t.Helper()
	dbURL := testutil.NewDatabase(t)
	s, err := postgres.New(t.Context(), dbURL)
	if err != nil {
		t.Fatalf("postgres.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	c := &clock{now: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	deps := api.Deps{AdminToken: adminToken, Keys: s, Now: c.Now, AuthFailureBurst: 100}
	if edit != nil {
		edit(&deps)
	}
	srv := httptest.NewServer(api.New(deps))
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, store: s, dbURL: dbURL, clock: c, client: srv.Client()}
}

// answer is a response, its body read.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, a.body) }

// errorCode returns the code of an error answer, failing the test if the body is not the
// error shape.
func (a answer) errorCode(t *testing.T) string {
	t.Helper()
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(a.body, &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		t.Fatalf("answer %s is not the error shape", a)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("error answer's Content-Type = %q, want application/json", ct)
	}
	return e.Error.Code
}

func (a answer) message(t *testing.T) string {
	t.Helper()
	var e struct {
		Error struct{ Message string } `json:"error"`
	}
	_ = json.Unmarshal(a.body, &e)
	return e.Error.Message
}

// do sends a request with the credential in Authorization: Bearer (none if empty).
func (f *fixture) do(t *testing.T, method, path, token string, body any) answer {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.send(t, req)
}

func (f *fixture) send(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}
}

// createdKey is the answer to POST /admin/tenants/{tenant}/keys.
type createdKey struct {
	ID        string    `json:"id"`
	Key       string    `json:"key"`
	Tenant    string    `json:"tenant"`
	Prefix    string    `json:"prefix"`
	CreatedAt time.Time `json:"created_at"`
}

func (f *fixture) newKey(t *testing.T, tenant string) createdKey {
	t.Helper()
	a := f.do(t, "POST", "/admin/tenants/"+tenant+"/keys", adminToken, nil)
	if a.status != http.StatusCreated {
		t.Fatalf("create key: %s", a)
	}
	var k createdKey
	if err := json.Unmarshal(a.body, &k); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.Key, "hk_") || k.ID == "" || k.Tenant != tenant || k.CreatedAt.IsZero() {
		t.Fatalf("create key answered %s", a)
	}
	return k
}

// TestAccessMatrix checks who may call what: the admin token everything, a tenant key its
// own tenant's paths and the catalog, 404 on another tenant's paths, 403 on admin paths,
// 401 without a credential or with an unknown or revoked one. Routes whose service this
// API was not given answer 503, which shows that the request got past authentication.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	acme := f.newKey(t, "acme")
	globexKey := f.newKey(t, "globex")
	revoked := f.newKey(t, "acme")
	if a := f.do(t, "DELETE", "/admin/tenants/acme/keys/"+revoked.ID, adminToken, nil); a.status != http.StatusNoContent {
		t.Fatalf("revoke: %s", a)
	}

	paths := []struct{ method, path string }{
		{"GET", "/v1/tenants/acme/destinations"},   // acme's
		{"GET", "/v1/tenants/acme/deliveries"},     // acme's
		{"GET", "/v1/tenants/globex/destinations"}, // another tenant's
		{"POST", "/v1/tenants/globex/destinations/hook/test"},
		{"GET", "/admin/notifications/status"}, // admin
		{"GET", "/admin/tenants/acme/keys"},    // admin, even for acme's own keys
		{"GET", "/v1/event-types"},             // any credential
	}
	type want = []int // one status per path above
	for _, tc := range []struct {
		name  string
		token string
		want  want
	}{
		{"admin", adminToken, want{503, 503, 503, 503, 503, 200, 200}},
		{"acme key", acme.Key, want{503, 503, 404, 404, 403, 403, 200}},
		{"globex key", globexKey.Key, want{404, 404, 503, 503, 403, 403, 200}},
		{"no credential", "", want{401, 401, 401, 401, 401, 401, 401}},
		{"unknown token", "not-the-token", want{401, 401, 401, 401, 401, 401, 401}},
		{"unknown key", "hk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", want{401, 401, 401, 401, 401, 401, 401}},
		{"revoked key", revoked.Key, want{401, 401, 401, 401, 401, 401, 401}},
	} {
		for i, p := range paths {
			a := f.do(t, p.method, p.path, tc.token, nil)
			if a.status != tc.want[i] {
				t.Errorf("%s: %s %s = %s, want %d", tc.name, p.method, p.path, a, tc.want[i])
				continue
			}
			if a.status >= 400 {
				code := a.errorCode(t)
				wantCode := map[int]string{401: "unauthorized", 403: "forbidden", 404: "not_found", 503: "unavailable"}[a.status]
				if code != wantCode {
					t.Errorf("%s: %s %s: code %q, want %q", tc.name, p.method, p.path, code, wantCode)
				}
			}
		}
	}

	// The admin token also works as X-Admin-Token, and the scheme of Authorization is
	// case-insensitive.
	req, _ := http.NewRequest("GET", f.srv.URL+"/admin/tenants/acme/keys", nil)
	req.Header.Set("X-Admin-Token", adminToken)
	if a := f.send(t, req); a.status != 200 {
		t.Errorf("X-Admin-Token: %s", a)
	}
	req, _ = http.NewRequest("GET", f.srv.URL+"/admin/tenants/acme/keys", nil)
	req.Header.Set("Authorization", "bearer "+adminToken)
	if a := f.send(t, req); a.status != 200 {
		t.Errorf("lower-case bearer: %s", a)
	}
	// Another scheme is no credential.
	req, _ = http.NewRequest("GET", f.srv.URL+"/admin/tenants/acme/keys", nil)
	req.Header.Set("Authorization", "Basic "+adminToken)
	if a := f.send(t, req); a.status != 401 {
		t.Errorf("Basic: %s, want 401", a)
	}
	// The document needs nothing.
	if a := f.do(t, "GET", "/openapi.json", "", nil); a.status != 200 || !json.Valid(a.body) {
		t.Errorf("GET /openapi.json without a credential: %d", a.status)
	}
}

// TestAdminOff checks that without an admin token every admin request is a 401, whatever
// it sends, while tenant keys, issued before, keep working.
func TestAdminOff(t *testing.T) {
	t.Parallel()
	on := setup(t, nil)
	acme := on.newKey(t, "acme")
	off := httptest.NewServer(api.New(api.Deps{Keys: on.store, AuthFailureBurst: 100}))
	t.Cleanup(off.Close)
	f := &fixture{srv: off, client: off.Client()}
	for _, token := range []string{"", adminToken, " ", "Bearer"} {
		if a := f.do(t, "GET", "/admin/notifications/status", token, nil); a.status != 401 || a.errorCode(t) != "unauthorized" {
			t.Errorf("token %q with the admin API off: %s, want 401", token, a)
		}
	}
	if a := f.do(t, "GET", "/v1/tenants/acme/destinations", acme.Key, nil); a.status != 503 {
		t.Errorf("tenant key with the admin API off: %s, want 503 (past authentication)", a)
	}
}

// TestRevokedKeyStopsAtOnce checks that a revocation through one replica holds on another
// at once: both read the key from the database on every request.
func TestRevokedKeyStopsAtOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	s2, err := postgres.New(t.Context(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s2.Close() })
	replica := httptest.NewServer(api.New(api.Deps{AdminToken: adminToken, Keys: s2, AuthFailureBurst: 100}))
	t.Cleanup(replica.Close)
	other := &fixture{srv: replica, client: replica.Client()}

	k := f.newKey(t, "acme")
	if a := other.do(t, "GET", "/v1/event-types", k.Key, nil); a.status != 200 {
		t.Fatalf("key on the other replica before revoking: %s", a)
	}
	if a := f.do(t, "DELETE", "/admin/tenants/acme/keys/"+k.ID, adminToken, nil); a.status != 204 {
		t.Fatalf("revoke: %s", a)
	}
	revokedAt := time.Now()
	a := other.do(t, "GET", "/v1/event-types", k.Key, nil)
	if a.status != 401 {
		t.Errorf("revoked key on the other replica: %s, want 401", a)
	}
	if d := time.Since(revokedAt); d > time.Second {
		t.Errorf("the revocation took %s to hold, want under a second", d)
	}
	// Revoking again, or another tenant's key, is not found.
	if a := f.do(t, "DELETE", "/admin/tenants/acme/keys/"+k.ID, adminToken, nil); a.status != 404 || a.errorCode(t) != "not_found" {
		t.Errorf("revoke twice: %s, want 404", a)
	}
	k2 := f.newKey(t, "acme")
	if a := f.do(t, "DELETE", "/admin/tenants/globex/keys/"+k2.ID, adminToken, nil); a.status != 404 {
		t.Errorf("revoke acme's key as globex's: %s, want 404", a)
	}
	if a := f.do(t, "GET", "/v1/event-types", k2.Key, nil); a.status != 200 {
		t.Errorf("acme's key after a refused revoke: %s", a)
	}
}

// TestKeysStoredAsHashes reads the table: no key appears in it, only its SHA-256, and the
// list shows no key material.
func TestKeysStoredAsHashes(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	keys := []createdKey{f.newKey(t, "acme"), f.newKey(t, "acme")}
	conn, err := pgx.Connect(t.Context(), f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	rows, err := conn.Query(t.Context(), `SELECT key_id, tenant_id, key_hash, prefix, row_to_json(k)::text
		FROM notification_tenant_keys k ORDER BY key_id`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, tenant string
		hash       []byte
		prefix     string
		all        string
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.tenant, &x.hash, &x.prefix, &x.all)
		return x, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d rows, want %d", len(got), len(keys))
	}
	for _, k := range keys {
		var found bool
		for _, r := range got {
			if strings.Contains(r.all, k.Key) || strings.Contains(r.all, k.Key[3:]) {
				t.Errorf("row %s holds the key in clear", r.id)
			}
			if r.id == k.ID {
				found = true
				if h := sha256.Sum256([]byte(k.Key)); !bytes.Equal(r.hash, h[:]) {
					t.Errorf("key %s: stored hash %x, want the SHA-256 of the key", k.ID, r.hash)
				}
				if r.prefix != k.Key[:11] || r.tenant != "acme" {
					t.Errorf("key %s: prefix %q tenant %q", k.ID, r.prefix, r.tenant)
				}
			}
		}
		if !found {
			t.Errorf("key %s not stored", k.ID)
		}
	}
	a := f.do(t, "GET", "/admin/tenants/acme/keys", adminToken, nil)
	for _, k := range keys {
		if strings.Contains(string(a.body), k.Key) {
			t.Errorf("the key list shows key %s in full: %s", k.ID, a)
		}
	}
}

// TestKeyPages walks the key list a page at a time, revoking one between pages.
func TestKeyPages(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	var ids []string
	for range 5 {
		ids = append(ids, f.newKey(t, "acme").ID)
	}
	f.newKey(t, "globex")
	var seen []string
	cursor := ""
	for page := 0; ; page++ {
		a := f.do(t, "GET", "/admin/tenants/acme/keys?limit=2&cursor="+cursor, adminToken, nil)
		if a.status != 200 {
			t.Fatalf("page %d: %s", page, a)
		}
		var p struct {
			Data []struct {
				ID  string `json:"id"`
				Key string `json:"key"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(a.body, &p); err != nil || p.NextCursor == nil {
			t.Fatalf("page %d: %s", page, a)
		}
		for _, k := range p.Data {
			seen = append(seen, k.ID)
			if k.Key != "" {
				t.Errorf("list shows a key")
			}
		}
		if page == 0 {
			// The first key, already shown, goes: the next page neither skips nor repeats.
			if a := f.do(t, "DELETE", "/admin/tenants/acme/keys/"+ids[0], adminToken, nil); a.status != 204 {
				t.Fatalf("revoke: %s", a)
			}
		}
		if *p.NextCursor == "" {
			break
		}
		cursor = *p.NextCursor
	}
	if fmt.Sprint(seen) != fmt.Sprint(ids) {
		t.Errorf("pages showed %v, want %v", seen, ids)
	}
	if a := f.do(t, "GET", "/admin/tenants/acme/keys?cursor=!!!", adminToken, nil); a.status != 400 || a.errorCode(t) != "invalid_request" {
		t.Errorf("bad cursor: %s, want 400", a)
	}
}

// TestFailedAuthenticationSlowed checks that a burst of failures from one address is
// followed by 429s with Retry-After, that these hold even for a correct credential (or the
// answers would tell a guess right), that successes take nothing from the allowance, and
// that it refills with time.
func TestFailedAuthenticationSlowed(t *testing.T) {
	t.Parallel()
	f := setup(t, func(d *api.Deps) { d.AuthFailureBurst = 3; d.AuthFailures = 0.5 })
	for i := range 20 {
		if a := f.do(t, "GET", "/v1/event-types", adminToken, nil); a.status != 200 {
			t.Fatalf("success %d: %s", i, a)
		}
	}
	for i := range 3 {
		if a := f.do(t, "GET", "/v1/event-types", "guess-"+fmt.Sprint(i), nil); a.status != 401 {
			t.Fatalf("failure %d within the burst: %s, want 401", i, a)
		}
	}
	for _, token := range []string{"guess-4", adminToken} {
		a := f.do(t, "GET", "/v1/event-types", token, nil)
		if a.status != http.StatusTooManyRequests || a.errorCode(t) != "rate_limited" {
			t.Fatalf("after the burst, %q: %s, want 429", token, a)
		}
		if ra := a.header.Get("Retry-After"); ra != "2" {
			t.Errorf("Retry-After = %q, want 2 (one failure every 2s)", ra)
		}
	}
	// Requests with no credential are not guesses and are not slowed down.
	if a := f.do(t, "GET", "/v1/event-types", "", nil); a.status != 429 {
		t.Errorf("no credential while limited: %s, want 429", a)
	}
	f.clock.Advance(2 * time.Second)
	if a := f.do(t, "GET", "/v1/event-types", adminToken, nil); a.status != 200 {
		t.Errorf("after Retry-After: %s, want 200", a)
	}
	if a := f.do(t, "GET", "/v1/event-types", "guess-5", nil); a.status != 401 {
		t.Errorf("one more failure after the refill: %s, want 401", a)
	}
	if a := f.do(t, "GET", "/v1/event-types", "guess-6", nil); a.status != 429 {
		t.Errorf("a second: %s, want 429", a)
	}
}

// TestErrorShapes checks the errors every route shares: unknown paths and methods, bodies
// that are not JSON, too large, with unknown fields, and limits out of range.
func TestErrorShapes(t *testing.T) {
	t.Parallel()
	f := setup(t, nil)
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
		inMessage          string
	}{
		{"unknown path", "GET", "/v1/nothing-here", nil, 404, "not_found", "/v1/nothing-here"},
		{"unknown admin path", "GET", "/admin/nothing", nil, 404, "not_found", ""},
		{"wrong method", "PUT", "/v1/event-types", nil, 405, "method_not_allowed", "PUT"},
		{"bad JSON", "POST", "/admin/notifications/replays", `{"since": `, 400, "invalid_request", "body"},
		{"not JSON", "POST", "/admin/notifications/replays", `since=2h`, 400, "invalid_request", "invalid JSON"},
		{"unknown field", "POST", "/admin/notifications/test", `{"channel":"slack","chanel":"x"}`, 400, "invalid_request", "chanel"},
		{"wrong type", "POST", "/admin/notifications/test", `{"channel":5}`, 400, "invalid_request", "channel"},
		{"two objects", "POST", "/admin/notifications/test", `{"channel":"slack"}{}`, 400, "invalid_request", "after"},
		{"empty body", "POST", "/admin/notifications/test", ``, 400, "invalid_request", "body"},
		{"too large", "POST", "/admin/notifications/test", `{"channel":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413, "too_large", ""},
		{"limit 0", "GET", "/admin/notifications/history?limit=0", nil, 400, "invalid_request", "limit"},
		{"limit 501", "GET", "/admin/notifications/history?limit=501", nil, 400, "invalid_request", "limit"},
		{"limit x", "GET", "/admin/notifications/history?limit=x", nil, 400, "invalid_request", "limit"},
		{"bad status", "GET", "/admin/notifications/history?status=delivered,lost", nil, 400, "invalid_request", "status"},
		{"bad since", "GET", "/admin/notifications/history?since=yesterday", nil, 400, "invalid_request", "since"},
		{"until before since", "GET", "/admin/notifications/history?since=1h&until=2h", nil, 400, "invalid_request", "until"},
		{"bad tenant", "GET", "/admin/notifications/history?tenant=a.b", nil, 400, "invalid_request", "tenant"},
		{"replay without since", "POST", "/admin/notifications/replays", `{"until":"1h"}`, 400, "invalid_request", "since"},
		{"replay bad destinations", "POST", "/admin/notifications/replays", `{"since":"2h","destinations":"all"}`, 400, "invalid_request", "destinations"},
		{"test both", "POST", "/admin/notifications/test", `{"channel":"slack","tenant":"acme"}`, 400, "invalid_request", "channel"},
		{"test neither", "POST", "/admin/notifications/test", `{}`, 400, "invalid_request", "channel"},
		{"bad key tenant", "POST", "/admin/tenants/a%20b/keys", nil, 400, "invalid_request", "tenant"},
		{"another tenant in the query", "GET", "/v1/tenants/acme/deliveries?tenant=globex", nil, 400, "invalid_request", "tenant"},
	} {
		a := f.do(t, tc.method, tc.path, adminToken, tc.body)
		if a.status != tc.status {
			t.Errorf("%s: %s, want %d", tc.name, a, tc.status)
			continue
		}
		if code := a.errorCode(t); code != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, code, tc.code)
		}
		if msg := a.message(t); !strings.Contains(msg, tc.inMessage) {
			t.Errorf("%s: message %q does not mention %q", tc.name, msg, tc.inMessage)
		}
		if tc.status == 405 && a.header.Get("Allow") != "GET" {
			t.Errorf("%s: Allow = %q, want GET", tc.name, a.header.Get("Allow"))
		}
	}
}

// TestEventTypes checks the catalog: the seed types with a draft 2020-12 schema of their
// data, the test type, and the operator's own exact types without one.
func TestEventTypes(t *testing.T) {
	t.Parallel()
	f := setup(t, func(d *api.Deps) { d.EventTypes = []string{"order.shipped", "payment.*", "payment.failed", "*"} })
	a := f.do(t, "GET", "/v1/event-types", adminToken, nil)
	if a.status != 200 {
		t.Fatal(a)
	}
	var body struct {
		Data []struct {
			Type        string         `json:"type"`
			Description string         `json:"description"`
			Schema      map[string]any `json:"schema"`
		} `json:"data"`
	}
	if err := json.Unmarshal(a.body, &body); err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]any{}
	var order []string
	for _, e := range body.Data {
		if e.Description == "" {
			t.Errorf("%s has no description", e.Type)
		}
		got[e.Type] = e.Schema
		order = append(order, e.Type)
	}
	want := []string{"tenant.created", "payment.succeeded", "payment.failed", "node.launched", "node.terminated",
		"node.health_degraded", "cost.anomaly_detected", "ratelimit.threshold_reached", "herald.test", "order.shipped"}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Errorf("types %v, want %v", order, want)
	}
	s := got["node.launched"]
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" || s["type"] != "object" {
		t.Errorf("node.launched schema: %v", s)
	}
	props, _ := s["properties"].(map[string]any)
	for field, typ := range map[string]string{"node_id": "string", "gpu_count": "integer", "spot": "boolean", "launch_duration": "number"} {
		p, _ := props[field].(map[string]any)
		if p["type"] != typ {
			t.Errorf("node.launched.%s: %v, want type %s", field, p, typ)
		}
	}
	if got["order.shipped"] != nil || got["herald.test"] != nil {
		t.Errorf("custom types carry a schema")
	}
}
