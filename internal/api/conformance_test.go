package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// fleetAPI is the API as a dispatcher process serves it: the whole fleet in this process,
// on embedded NATS and a test PostgreSQL, with its real services.
type fleetAPI struct {
	base     string
	natsURL  string
	receiver string // the URL of a webhook receiver that answers 204
	client   *http.Client
	// received counts the webhook deliveries the receiver got.
	received func() int
}

const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func startFleetAPI(t *testing.T, extra map[string]string) *fleetAPI {
	t.Helper()
	n := testutil.StartNATS(t)
	var (
		mu  sync.Mutex
		got int
	)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		got++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(receiver.Close)
	key, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"NOTIFICATIONS_NATS_URL":             n.URL(),
		"NOTIFICATIONS_DATABASE_URL":         testutil.NewDatabase(t),
		"NOTIFICATIONS_DATA_DIR":             t.TempDir(),
		"NOTIFICATIONS_HTTP_ADDR":            "127.0.0.1:0",
		"NOTIFICATIONS_ADMIN_TOKEN":          adminToken,
		"NOTIFICATIONS_SECRETS_KEY":          key,
		"NOTIFICATIONS_SSRF_ALLOW":           "127.0.0.0/8",
		"NOTIFICATIONS_WEBHOOK_ENABLED":      "true",
		"NOTIFICATIONS_WEBHOOK_URL":          receiver.URL + "/operator",
		"NOTIFICATIONS_WEBHOOK_SECRET":       whsec,
		"NOTIFICATIONS_RETRY_BACKOFF":        "100ms,200ms",
		"NOTIFICATIONS_SEND_TIMEOUT":         "2s",
		"NOTIFICATIONS_RECORDER_FLUSH":       "20ms",
		"NOTIFICATIONS_LOG_FORMAT":           "json",
		"NOTIFICATIONS_ROUTES":               `{"order.shipped":["webhook"],"*":["webhook"]}`,
		"NOTIFICATIONS_MAX_RETRIES":          "1",
		"NOTIFICATIONS_RECORDER_BATCH":       "50",
		"NOTIFICATIONS_LOG_LEVEL":            "warn",
		"NOTIFICATIONS_SUBJECT_PREFIX":       "herald",
		"NOTIFICATIONS_DISPATCH_CONCURRENCY": "8",
	}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := obs.NewLogger(obs.LogConfig{Level: cfg.LogLevel, Format: "json", Secrets: cfg.Secrets(), Out: io.Discard})
	p, err := app.Start(context.Background(), cfg, app.Role{Name: "herald", Dispatcher: true, Channels: []string{"all"}, Parts: parts.All()}, log)
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(p.Stop)
	// Redirects (of the browser sessions' routes) are answers to check, not to follow.
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &fleetAPI{base: "http://" + p.HTTPAddr(), natsURL: n.URL(), receiver: receiver.URL, client: client,
		received: func() int { mu.Lock(); defer mu.Unlock(); return got }}
}

// exchange is one request and its answer, kept for validation against the document.
type exchange struct {
	req  *http.Request
	resp *http.Response
	body []byte
}

// recorder sends requests and keeps every exchange.
type recorder struct {
	t         *testing.T
	f         *fleetAPI
	exchanges []exchange
}

// do sends a request and fails the test unless it answers want.
func (r *recorder) do(method, path, token string, body any, want int) []byte {
	r.t.Helper()
	status, got := r.send(method, path, token, body)
	if status != want {
		r.t.Fatalf("%s %s: %d %s, want %d", method, path, status, got, want)
	}
	return got
}

// try sends a request and returns its status, whatever it is.
func (r *recorder) try(method, path, token string) int {
	r.t.Helper()
	status, _ := r.send(method, path, token, nil)
	return status
}

func (r *recorder) send(method, path, token string, body any) (int, []byte) {
	r.t.Helper()
	header := http.Header{}
	if token != "" {
		header.Set("Authorization", "Bearer "+token)
	}
	status, got, _ := r.sendWith(method, path, header, body)
	return status, got
}

// doWith sends a request with the given headers (a Content-Type among them wins over the
// JSON default) and fails the test unless it answers want; it returns the answer's headers
// too.
func (r *recorder) doWith(method, path string, header http.Header, body any, want int) ([]byte, http.Header) {
	r.t.Helper()
	status, got, h := r.sendWith(method, path, header, body)
	if status != want {
		r.t.Fatalf("%s %s: %d %s, want %d", method, path, status, got, want)
	}
	return got, h
}

func (r *recorder) sendWith(method, path string, header http.Header, body any) (int, []byte, http.Header) {
	r.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			r.t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, r.f.base+path, bytes.NewReader(raw))
	if err != nil {
		r.t.Fatal(err)
	}
	if raw != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := r.f.client.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		r.t.Fatal(err)
	}
	// The validator reads the request body again, for the content type.
	req.Body = io.NopCloser(bytes.NewReader(raw))
	r.exchanges = append(r.exchanges, exchange{req: req, resp: resp, body: got})
	return resp.StatusCode, got, resp.Header
}

func decodeInto[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

// TestOpenAPIConformance drives every route of the API against the real fleet and checks
// that the document describes it: every documented path and method answers (none is the
// mux's 404), every answer's body, errors included, validates against the schema documented
// for its status, and every route the API serves is documented.
func TestOpenAPIConformance(t *testing.T) {
	t.Parallel()
	f := startFleetAPI(t, nil)
	r := &recorder{t: t, f: f}

	// The catalog and the document.
	r.do("GET", "/openapi.json", "", nil, 200)
	r.do("GET", "/v1/event-types", adminToken, nil, 200)

	// A tenant key, and acme's destinations with it.
	key := decodeInto[struct{ ID, Key string }](t, r.do("POST", "/admin/tenants/acme/keys", adminToken, nil, 201))
	r.do("GET", "/admin/tenants/acme/keys?limit=10", adminToken, nil, 200)
	hook := map[string]any{"id": "hook-1", "channel": "webhook", "config": map[string]any{"url": f.receiver + "/acme"},
		"event_types": []string{"payment.*"}}
	// The hook points at the receiver, which the SSRF allow list lets tenants reach.
	dest := decodeInto[struct{ Secret string }](t, r.do("POST", "/v1/tenants/acme/destinations", key.Key, hook, 201))
	if !strings.HasPrefix(dest.Secret, "whsec_") {
		t.Errorf("a webhook created without a secret got %q", dest.Secret)
	}
	r.do("POST", "/v1/tenants/acme/destinations", key.Key, hook, 409)
	r.do("POST", "/v1/tenants/acme/destinations", key.Key, `{"channel":"webhook","config":{"url":"ftp://x"},"event_types":["payment.["]}`, 400)
	r.do("GET", "/v1/tenants/acme/destinations?limit=1", key.Key, nil, 200)
	r.do("GET", "/v1/tenants/acme/destinations/hook-1", key.Key, nil, 200)
	r.do("GET", "/v1/tenants/acme/destinations/nope", key.Key, nil, 404)
	r.do("PATCH", "/v1/tenants/acme/destinations/hook-1", key.Key, map[string]any{"event_types": []string{"payment.*", "order.shipped"}}, 200)
	r.do("POST", "/v1/tenants/acme/destinations/hook-1/disable", key.Key, nil, 200)
	r.do("POST", "/v1/tenants/acme/destinations/hook-1/enable", key.Key, nil, 200)
	r.do("POST", "/v1/tenants/acme/destinations/hook-1/rotate-secret", key.Key, `{"overlap":"1h"}`, 200)
	r.do("POST", "/v1/tenants/acme/destinations/hook-1/rotate-secret", key.Key, nil, 200)
	r.do("POST", "/v1/tenants/acme/destinations/hook-1/test", key.Key, nil, 200)
	r.do("GET", "/v1/tenants/globex/destinations", key.Key, nil, 404)
	r.do("GET", "/admin/notifications/status", key.Key, nil, 403)
	r.do("GET", "/admin/notifications/status", "", nil, 401)

	// Events, so that the history has deliveries: the operator's webhook gets each, and
	// acme's hook the payments.
	pub := publishTo(t, f.natsURL)
	for i := range 3 {
		ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: float64(i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.Publish(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	var deliveries struct {
		Data []struct {
			DeliveryID string `json:"delivery_id"`
			TenantID   string `json:"tenant_id"`
			Status     string `json:"status"`
		} `json:"data"`
	}
	testutil.WaitFor(t, 30*time.Second, "six delivered deliveries in the history", func() bool {
		deliveries = decodeInto[struct {
			Data []struct {
				DeliveryID string `json:"delivery_id"`
				TenantID   string `json:"tenant_id"`
				Status     string `json:"status"`
			} `json:"data"`
		}](t, r.do("GET", "/admin/notifications/history?status=delivered&limit=100", adminToken, nil, 200))
		return len(deliveries.Data) >= 6
	})
	var tenantDelivery string
	for _, d := range deliveries.Data {
		if strings.Contains(d.DeliveryID, "/") {
			tenantDelivery = d.DeliveryID
		}
	}
	if tenantDelivery == "" {
		t.Fatalf("no tenant delivery (with a '/' in its id) among %+v", deliveries.Data)
	}
	r.do("GET", "/admin/notifications/history?tenant=acme&event_type=payment.*&status=delivered,failed&since=1h&limit=2", adminToken, nil, 200)
	r.do("GET", "/admin/notifications/history?since=yesterday", adminToken, nil, 400)
	r.do("GET", "/v1/tenants/acme/deliveries?limit=2", key.Key, nil, 200)
	detail := r.do("GET", "/admin/notifications/deliveries/"+url.PathEscape(tenantDelivery), adminToken, nil, 200)
	if got := decodeInto[struct {
		DeliveryID string `json:"delivery_id"`
	}](t, detail); got.DeliveryID != tenantDelivery {
		t.Errorf("delivery %q answered %s", tenantDelivery, detail)
	}
	// A client that does not escape the '/' reaches the same delivery too, although the
	// document (whose paths cannot say so) asks for escaping.
	req, _ := http.NewRequest("GET", f.base+"/admin/notifications/deliveries/"+tenantDelivery, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if resp, err := f.client.Do(req); err != nil {
		t.Fatal(err)
	} else {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Contains(b, []byte(`"delivery_id":"`+tenantDelivery+`"`)) {
			t.Errorf("unescaped delivery id: %d %s", resp.StatusCode, b)
		}
	}
	r.do("GET", "/admin/notifications/deliveries/"+url.PathEscape("01J0000000000000000000000:acme/nope"), adminToken, nil, 404)

	// The dashboard's: who a credential is, a tenant's own delivery, previews, charts, the
	// operator's destinations and the tenants.
	r.do("GET", "/v1/whoami", key.Key, nil, 200)
	r.do("GET", "/v1/tenants/acme/deliveries/"+url.PathEscape(tenantDelivery), key.Key, nil, 200)
	r.do("GET", "/v1/tenants/acme/deliveries/"+url.PathEscape("01J0000000000000000000000:acme/nope"), key.Key, nil, 404)
	r.do("GET", "/admin/notifications/deliveries/"+url.PathEscape(tenantDelivery)+"/preview", adminToken, nil, 200)
	r.do("GET", "/admin/notifications/deliveries/"+url.PathEscape("01J0000000000000000000000:nope")+"/preview", adminToken, nil, 404)
	r.do("GET", "/v1/tenants/acme/deliveries/"+url.PathEscape(tenantDelivery)+"/preview", key.Key, nil, 200)
	r.do("GET", "/admin/notifications/stats?since=1h&step=1m", adminToken, nil, 200)
	r.do("GET", "/admin/notifications/stats?since=30m&step=10s&channel=webhook", adminToken, nil, 200)
	r.do("GET", "/admin/notifications/stats?since=48h", adminToken, nil, 400)
	if b := r.do("GET", "/admin/destinations?limit=10", adminToken, nil, 200); bytes.Contains(b, []byte(whsec)) {
		t.Errorf("the operator's destinations show the webhook secret: %s", b)
	}
	r.do("GET", "/admin/tenants", adminToken, nil, 200)

	// A browser session: JSON and form logins, a wrong token, the session used, logout.
	_, h := r.doWith("POST", "/ui/login", nil, map[string]string{"token": key.Key}, 200)
	cookie := (&http.Response{Header: h}).Cookies()
	if len(cookie) != 1 || cookie[0].Name != api.SessionCookie {
		t.Fatalf("a JSON login set the cookies %v", cookie)
	}
	r.doWith("POST", "/ui/login", nil, map[string]string{"token": "not-the-token"}, 401)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if _, h := r.doWith("POST", "/ui/login", form, "token="+url.QueryEscape(adminToken), 303); h.Get("Location") != "/ui/" {
		t.Errorf("a form login sent the browser to %q", h.Get("Location"))
	}
	r.doWith("GET", "/v1/whoami", http.Header{"Cookie": {cookie[0].Name + "=" + cookie[0].Value}}, nil, 200)
	r.doWith("POST", "/v1/tenants/acme/destinations/hook-1/test", http.Header{"Cookie": {cookie[0].Name + "=" + cookie[0].Value}}, nil, 403)
	r.doWith("POST", "/ui/logout", nil, nil, 303)

	// Tests, dead letters, replays, status.
	r.do("POST", "/admin/notifications/test", adminToken, `{"channel":"webhook"}`, 200)
	r.do("POST", "/admin/notifications/test", adminToken, `{"tenant":"acme","destination":"hook-1"}`, 200)
	r.do("POST", "/admin/notifications/test", adminToken, `{"channel":"webhook","chanel":"x"}`, 400)
	r.do("GET", "/admin/notifications/dead?limit=5", adminToken, nil, 200)
	r.do("POST", "/admin/notifications/dead/redrive", adminToken, `{"ids":["01J0000000000000000000000:nope"]}`, 200)
	r.do("POST", "/admin/notifications/dead/discard", adminToken, `{"channel":"webhook","since":"1h"}`, 200)
	r.do("POST", "/admin/notifications/dead/redrive", adminToken, `{}`, 400)
	replay := decodeInto[struct{ ID string }](t, r.do("POST", "/admin/notifications/replays", adminToken, `{"since":"1h","dry_run":true}`, 202))
	r.do("GET", "/admin/notifications/replays/"+replay.ID, adminToken, nil, 200)
	r.do("GET", "/admin/notifications/replays/nope", adminToken, nil, 404)
	r.do("DELETE", "/admin/notifications/replays/"+replay.ID, adminToken, nil, 200)
	r.do("GET", "/admin/notifications/status", adminToken, nil, 200)

	// Clean up: the destination, the key.
	r.do("DELETE", "/v1/tenants/acme/destinations/hook-1", key.Key, nil, 204)
	r.do("DELETE", "/admin/tenants/acme/keys/"+key.ID, adminToken, nil, 204)
	r.do("DELETE", "/admin/tenants/acme/keys/"+key.ID, adminToken, nil, 404)
	r.do("GET", "/v1/tenants/acme/destinations", key.Key, nil, 401)
	r.do("POST", "/admin/notifications/test", adminToken, `{"channel":"`+strings.Repeat("x", api.MaxBodyBytes)+`"}`, 413)
	// Failed authentications until the address is slowed down (a burst of 10 by default).
	for i := 0; ; i++ {
		if i == 20 {
			t.Fatal("20 failed authentications in a row were never slowed down")
		}
		if r.try("GET", "/v1/event-types", "guess") == http.StatusTooManyRequests {
			break
		}
	}

	checkAgainstDocument(t, r.exchanges)
}

// checkAgainstDocument validates every exchange's answer against openapi.json and checks
// that the routes exercised, the routes served and the paths documented are the same set.
func checkAgainstDocument(t *testing.T, exchanges []exchange) {
	t.Helper()
	checkResponses(t, exchanges)
	checkCoverage(t, exchanges)
}

// checkResponses validates every exchange's answer against openapi.json.
func checkResponses(t *testing.T, exchanges []exchange) {
	t.Helper()
	doc, err := libopenapi.NewDocument(api.OpenAPI())
	if err != nil {
		t.Fatalf("parse openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("openapi.json is not valid OpenAPI 3.1: %s: %s", e.Message, e.Reason)
		}
	}
	// A control: an answer that breaks its schema is caught, so that a validator that
	// checks nothing cannot pass this test.
	bad, _ := http.NewRequest("GET", "http://herald.test/v1/event-types", nil)
	badResp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"data":[{"type":5}]}`)), Request: bad}
	if ok, _ := v.ValidateHttpResponse(bad, badResp); ok {
		t.Fatal("the validator accepts an event type list whose type is a number")
	}
	for _, x := range exchanges {
		x.resp.Body = io.NopCloser(bytes.NewReader(x.body))
		if ok, verrs := v.ValidateHttpResponse(x.req, x.resp); !ok {
			for _, e := range verrs {
				detail := ""
				for _, s := range e.SchemaValidationErrors {
					detail += "; " + s.Reason + " at " + s.FieldPath
				}
				t.Errorf("%s %s -> %d %s: %s: %s%s", x.req.Method, x.req.URL.Path, x.resp.StatusCode, x.body, e.Message, e.Reason, detail)
			}
		}
		if x.resp.StatusCode == 404 && bytes.Contains(x.body, []byte("no such path:")) {
			t.Errorf("%s %s: the mux knows no such path", x.req.Method, x.req.URL.Path)
		}
		if x.resp.StatusCode == 501 || x.resp.StatusCode == 503 {
			t.Errorf("%s %s: %d %s: a route without its service", x.req.Method, x.req.URL.Path, x.resp.StatusCode, x.body)
		}
	}
}

// checkCoverage checks that the documented operations are the routes served, and that every
// route was exercised.
func checkCoverage(t *testing.T, exchanges []exchange) {
	t.Helper()
	var raw struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &raw); err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, ops := range raw.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(documented)
	served := api.RouteKeys()
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Errorf("documented operations %v\ndiffer from the routes served %v", documented, served)
	}
	// Every served route was exercised, with an answer not the mux's.
	exercised := map[string]bool{}
	for _, x := range exchanges {
		if key := matchRoute(served, x.req.Method, x.req.URL.EscapedPath()); key != "" {
			exercised[key] = true
		}
	}
	for _, key := range served {
		if !exercised[key] {
			t.Errorf("%s was not exercised", key)
		}
	}
}

// matchRoute finds the route an escaped request path belongs to.
func matchRoute(routes []string, method, path string) string {
	segs := strings.Split(path, "/")
	for _, key := range routes {
		m, pattern, _ := strings.Cut(key, " ")
		if m != method {
			continue
		}
		ps := strings.Split(pattern, "/")
		if len(ps) != len(segs) {
			continue
		}
		ok := true
		for i := range ps {
			if !strings.HasPrefix(ps[i], "{") && ps[i] != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return key
		}
	}
	return ""
}

func publishTo(t *testing.T, natsURL string) *sdk.Publisher {
	t.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestHistoryPagesWhileDeliveriesArrive walks the history and a tenant's deliveries a page at
// a time while new deliveries arrive: every delivery that existed when the walk began is
// seen exactly once, and the new ones, newer than the first page, are not mixed in.
func TestHistoryPagesWhileDeliveriesArrive(t *testing.T) {
	t.Parallel()
	f := startFleetAPI(t, nil)
	r := &recorder{t: t, f: f}
	key := decodeInto[struct{ Key string }](t, r.do("POST", "/admin/tenants/acme/keys", adminToken, nil, 201))
	r.do("POST", "/v1/tenants/acme/destinations", key.Key, map[string]any{"id": "hook", "channel": "webhook",
		"config": map[string]any{"url": f.receiver + "/acme"}, "event_types": []string{"*"}}, 201)
	pub := publishTo(t, f.natsURL)
	publish := func(n int) {
		t.Helper()
		for range n {
			ev, err := sdk.NewNodeTerminated("acme", sdk.NodeTerminated{NodeID: "n-1", Reason: "spot reclaim"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pub.Publish(t.Context(), ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	type page struct {
		Data []struct {
			DeliveryID string `json:"delivery_id"`
		} `json:"data"`
		NextCursor string `json:"next_cursor"`
	}
	all := func(path, token string) []string {
		t.Helper()
		p := decodeInto[page](t, r.do("GET", path+"?limit=500", token, nil, 200))
		var ids []string
		for _, d := range p.Data {
			ids = append(ids, d.DeliveryID)
		}
		return ids
	}
	publish(10) // 20 deliveries: the operator's webhook and acme's hook
	testutil.WaitFor(t, 30*time.Second, "20 deliveries recorded", func() bool {
		return len(all("/admin/notifications/history", adminToken)) == 20
	})
	for _, tc := range []struct{ path, token string }{
		{"/admin/notifications/history", adminToken},
		{"/v1/tenants/acme/deliveries", key.Key},
	} {
		before := all(tc.path, tc.token)
		var seen []string
		cursor := ""
		for i := 0; ; i++ {
			p := decodeInto[page](t, r.do("GET", tc.path+"?limit=3&cursor="+url.QueryEscape(cursor), tc.token, nil, 200))
			for _, d := range p.Data {
				seen = append(seen, d.DeliveryID)
			}
			if i == 1 {
				// New deliveries arrive mid-walk, and are recorded before the next page.
				n := len(all("/admin/notifications/history", adminToken))
				publish(2)
				testutil.WaitFor(t, 30*time.Second, "the new deliveries recorded", func() bool {
					return len(all("/admin/notifications/history", adminToken)) >= n+4
				})
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if !slices.Equal(seen, before) {
			t.Errorf("%s: pages showed %d deliveries %v,\nwant the %d there were at the start %v", tc.path, len(seen), seen, len(before), before)
		}
	}
	checkResponses(t, r.exchanges)
}
