package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/api"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/ops"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// ledgerOf is the fixture's store, inside an edit of Deps.
func ledgerOf(d *api.Deps) *postgres.Store { return d.Keys.(*postgres.Store) }

// recordAt records one result of a delivery, failing the test on an error.
func recordAt(t *testing.T, s store.Store, r store.Result) {
	t.Helper()
	if r.EventID == "" {
		r.EventID = "evt-" + r.DeliveryID
	}
	if r.EventType == "" {
		r.EventType = "payment.failed"
	}
	if r.Destination == "" {
		r.Destination = r.Channel
	}
	if r.Attempt == 0 && r.Status != store.StatusPending {
		r.Attempt = 1
	}
	if err := s.Record(t.Context(), []store.Result{r}); err != nil {
		t.Fatalf("Record: %v", err)
	}
}

// TestStats records deliveries whose status changed at chosen times and checks the charts:
// the steps they fall in, zeros in every other step, channels of the fleet without any
// delivery, the channel filter, and the bounds refused.
func TestStats(t *testing.T) {
	t.Parallel()
	f := setup(t, func(d *api.Deps) {
		d.Stats = ops.New(ops.Config{Channels: []string{"slack", "webhook", "sms"}}, ops.Deps{Ledger: ledgerOf(d)})
	})
	f.clock.Advance(30 * time.Second) // now 12:00:30
	at := func(hms string) time.Time {
		tm, err := time.Parse(time.RFC3339, "2026-12-06T"+hms+"Z")
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, r := range []store.Result{
		{DeliveryID: "a", Channel: "webhook", Status: store.StatusDelivered, At: at("11:55:10")},
		{DeliveryID: "b", Channel: "webhook", Status: store.StatusDelivered, At: at("11:55:59")},
		{DeliveryID: "c", Channel: "webhook", Status: store.StatusFailed, At: at("11:57:00")},
		{DeliveryID: "d", Channel: "slack", Status: store.StatusDead, At: at("11:59:59")},
		{DeliveryID: "e", Channel: "slack", Status: store.StatusRetrying, At: at("12:00:20")},
		{DeliveryID: "f", Channel: "webhook", Status: store.StatusDelivered, At: at("11:54:59")}, // before the window
		{DeliveryID: "g", Channel: "webhook", Status: store.StatusPending, At: at("11:58:00")},   // pending: not charted
		{DeliveryID: "h", Channel: "email", Status: store.StatusDelivered, At: at("11:56:30")},   // not a fleet channel
	} {
		recordAt(t, f.store, r)
	}
	pts := func(counts ...[4]int64) []control.StatsPoint {
		out := make([]control.StatsPoint, 6)
		for i := range out {
			out[i].T = at("11:55:00").Add(time.Duration(i) * time.Minute)
		}
		for i, c := range counts {
			out[i].Delivered, out[i].Failed, out[i].Dead, out[i].Retrying = c[0], c[1], c[2], c[3]
		}
		return out
	}
	var zero [4]int64
	want := control.Stats{StepSeconds: 60, Since: at("11:55:00"), Until: at("12:00:30"), Channels: []control.ChannelStats{
		{Channel: "email", Points: pts(zero, [4]int64{1, 0, 0, 0})},
		{Channel: "slack", Points: pts(zero, zero, zero, zero, [4]int64{0, 0, 1, 0}, [4]int64{0, 0, 0, 1})},
		{Channel: "sms", Points: pts()},
		{Channel: "webhook", Points: pts([4]int64{2, 0, 0, 0}, zero, [4]int64{0, 1, 0, 0})},
	}}
	check := func(path string, want control.Stats) {
		t.Helper()
		a := f.do(t, "GET", path, adminToken, nil)
		if a.status != http.StatusOK {
			t.Fatalf("GET %s: %s", path, a)
		}
		var got control.Stats
		if err := json.Unmarshal(a.body, &got); err != nil {
			t.Fatal(err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Errorf("GET %s =\n%s\nwant\n%s", path, g, w)
		}
	}
	check("/admin/notifications/stats?since=5m&step=1m", want)
	check("/admin/notifications/stats?since=2026-12-06T11:55:40Z&step=60s&channel=slack",
		control.Stats{StepSeconds: 60, Since: want.Since, Until: want.Until, Channels: want.Channels[1:2]})

	for _, q := range []string{
		"since=25h", "since=24h&step=10s", "step=5s", "step=2h", "step=1500ms", "step=fast",
		"since=yesterday", "since=2026-12-06T12:10:00Z",
	} {
		a := f.do(t, "GET", "/admin/notifications/stats?"+q, adminToken, nil)
		if a.status != http.StatusBadRequest || a.errorCode(t) != "invalid_request" {
			t.Errorf("stats?%s: %s, want 400", q, a)
			continue
		}
		field := strings.SplitN(q, "=", 2)[0]
		if q == "since=24h&step=10s" {
			field = "step"
		}
		if m := a.message(t); !strings.HasPrefix(m, field+":") {
			t.Errorf("stats?%s: message %q does not name %s", q, m, field)
		}
	}
	// The bounds themselves are allowed.
	for _, q := range []string{"since=24h&step=1h", "since=24h&step=90s", "since=10m&step=10s"} {
		if a := f.do(t, "GET", "/admin/notifications/stats?"+q, adminToken, nil); a.status != http.StatusOK {
			t.Errorf("stats?%s: %s", q, a)
		}
	}
}

// TestOperatorDestinations checks that the operator's destinations are listed from
// configuration with every secret masked: the webhook's secret, its headers and a token in
// its URL, and the Slack URL's token.
func TestOperatorDestinations(t *testing.T) {
	t.Parallel()
	secrets := []string{
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "hdr-secret-0123456789", "T0ABCDEF/B0ABCDEF/SlackTokenSecret123456",
		"SlackTokenSecret123456", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
	}
	env := map[string]string{
		"NOTIFICATIONS_WEBHOOK_ENABLED":   "true",
		"NOTIFICATIONS_WEBHOOK_URL":       "https://hooks.example.com/herald",
		"NOTIFICATIONS_WEBHOOK_SECRET":    secrets[0],
		"NOTIFICATIONS_WEBHOOK_HEADERS":   `{"Authorization":"Bearer ` + secrets[1] + `"}`,
		"NOTIFICATIONS_SLACK_ENABLED":     "true",
		"NOTIFICATIONS_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/" + secrets[2],
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	registry, err := all.Default(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, func(d *api.Deps) {
		d.Operator = ops.New(ops.Config{}, ops.Deps{Destinations: cfg.Destinations, Channels: registry})
	})
	a := f.do(t, "GET", "/admin/destinations", adminToken, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET /admin/destinations: %s", a)
	}
	for _, s := range secrets {
		if bytes.Contains(a.body, []byte(s)) {
			t.Errorf("the answer shows the secret %q: %s", s, a.body)
		}
	}
	var page struct {
		Data []struct {
			ID      string         `json:"id"`
			Channel string         `json:"channel"`
			Config  map[string]any `json:"config"`
			Tenant  string         `json:"tenant"`
		} `json:"data"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal(a.body, &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 2 || page.Data[0].Channel != "slack" || page.Data[1].Channel != "webhook" || page.NextCursor != "" {
		t.Fatalf("answer %s: want the slack and webhook destinations", a.body)
	}
	hook := page.Data[1].Config
	if hook["url"] != "https://hooks.example.com/herald" || hook["method"] != "POST" || page.Data[1].Tenant != "" {
		t.Errorf("the webhook's public settings are not shown as they are: %v", hook)
	}
	if s, _ := hook["secret"].(string); !strings.HasPrefix(s, "****") {
		t.Errorf("the webhook secret shows as %q, want masked", s)
	}
	if h, _ := hook["headers"].(map[string]any); h == nil || !strings.HasPrefix(h["Authorization"].(string), "****") {
		t.Errorf("the webhook headers show as %v, want each value masked", hook["headers"])
	}
	if u, _ := page.Data[0].Config["webhook_url"].(string); !strings.HasPrefix(u, "https://hooks.slack.com/") {
		t.Errorf("the Slack URL shows as %q, want its host kept and its token masked", u)
	}
	// Pages.
	a = f.do(t, "GET", "/admin/destinations?limit=1", adminToken, nil)
	_ = json.Unmarshal(a.body, &page)
	if len(page.Data) != 1 || page.NextCursor == "" {
		t.Fatalf("first page: %s", a)
	}
	a = f.do(t, "GET", "/admin/destinations?limit=1&cursor="+url.QueryEscape(page.NextCursor), adminToken, nil)
	_ = json.Unmarshal(a.body, &page)
	if len(page.Data) != 1 || page.Data[0].Channel != "webhook" || page.NextCursor != "" {
		t.Errorf("second page: %s", a)
	}
}

// TestTenantsList checks the tenants offered to the operator: those with destinations or
// working keys, with their counts.
func TestTenantsList(t *testing.T) {
	t.Parallel()
	f := setup(t, func(d *api.Deps) { d.Tenants = ledgerOf(d) })
	for _, d := range []store.TenantDestination{
		{Tenant: "globex", ID: "hook", Channel: "webhook", Config: []byte("sealed"), Enabled: true},
		{Tenant: "globex", ID: "chat", Channel: "slack", Config: []byte("sealed"), Enabled: true},
	} {
		if _, err := f.store.CreateDestination(t.Context(), d); err != nil {
			t.Fatal(err)
		}
	}
	f.newKey(t, "acme")
	f.newKey(t, "globex")
	gone := f.newKey(t, "initech")
	if a := f.do(t, "DELETE", "/admin/tenants/initech/keys/"+gone.ID, adminToken, nil); a.status != http.StatusNoContent {
		t.Fatal(a)
	}
	a := f.do(t, "GET", "/admin/tenants", adminToken, nil)
	want := `{"data":[{"tenant":"acme","destinations":0,"keys":1},{"tenant":"globex","destinations":2,"keys":1}],"next_cursor":""}` + "\n"
	if a.status != http.StatusOK || string(a.body) != want {
		t.Errorf("GET /admin/tenants = %s, want %s", a, want)
	}
	acme := f.newKey(t, "acme")
	if a := f.do(t, "GET", "/admin/tenants", acme.Key, nil); a.status != http.StatusForbidden {
		t.Errorf("a tenant key listing tenants: %s, want 403", a)
	}
}

// previewFixture is an API whose previews read a real EVENTS stream.
type previewFixture struct {
	*fixture
	js jetstream.JetStream
}

func setupPreview(t *testing.T) *previewFixture {
	t.Helper()
	n := testutil.StartNATS(t)
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := (broker.Topology{Prefix: "herald"}).Apply(t.Context(), js); err != nil {
		t.Fatalf("apply streams: %v", err)
	}
	templates, err := all.Templates("")
	if err != nil {
		t.Fatal(err)
	}
	registry, err := all.Default(nil, templates, nil)
	if err != nil {
		t.Fatal(err)
	}
	f := setup(t, func(d *api.Deps) {
		svc := ops.New(ops.Config{}, ops.Deps{Ledger: ledgerOf(d), JetStream: js, Channels: registry})
		d.History, d.Previews = svc, svc
	})
	return &previewFixture{fixture: f, js: js}
}

// publish publishes ev as any producer does and returns the bytes published.
func (p *previewFixture) publish(t *testing.T, ev *sdk.Event) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	m := &nats.Msg{Subject: ev.Subject("herald"), Data: b, Header: nats.Header{}}
	m.Header.Set(jetstream.MsgIDHeader, ev.ID)
	if _, err := p.js.PublishMsg(t.Context(), m); err != nil {
		t.Fatalf("publish: %v", err)
	}
	return b
}

// preview is the answer of a preview, decoded.
type preview struct {
	DeliveryID string          `json:"delivery_id"`
	Channel    string          `json:"channel"`
	Event      json.RawMessage `json:"event"`
	Payload    json.RawMessage `json:"payload"`
	RenderedAt time.Time       `json:"rendered_at"`
	Note       string          `json:"note"`
}

func (p *previewFixture) preview(t *testing.T, path, token string) preview {
	t.Helper()
	a := p.do(t, "GET", path, token, nil)
	if a.status != http.StatusOK {
		t.Fatalf("GET %s: %s", path, a)
	}
	var out preview
	if err := json.Unmarshal(a.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xs, _ := json.Marshal(x)
	ys, _ := json.Marshal(y)
	return bytes.Equal(xs, ys)
}

// TestPreview checks previews against a real EVENTS stream: the Slack request body of a Slack
// delivery, the email's subject, text and HTML, a webhook's event as is, the event as
// published in each, a replayed delivery finding the same event, an event no longer in
// EVENTS, and a tenant's previews scoped to its own deliveries.
func TestPreview(t *testing.T) {
	t.Parallel()
	p := setupPreview(t)
	// Other events of the same tenant and type around it, which the search must pass over.
	var noise []*sdk.Event
	for i := range 3 {
		ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "noise", Amount: float64(i)})
		if err != nil {
			t.Fatal(err)
		}
		noise = append(noise, ev)
	}
	p.publish(t, noise[0])
	ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 49.99})
	if err != nil {
		t.Fatal(err)
	}
	published := p.publish(t, ev)
	p.publish(t, noise[1])
	other, err := sdk.NewPaymentFailed("globex", sdk.PaymentFailed{TenantID: "globex", Reason: "expired", Amount: 5})
	if err != nil {
		t.Fatal(err)
	}
	p.publish(t, other)

	now := time.Now().UTC()
	for _, r := range []store.Result{
		{DeliveryID: ev.ID + ":slack", EventID: ev.ID, TenantID: "acme", Channel: "slack", Status: store.StatusDelivered, At: now},
		{DeliveryID: ev.ID + ":email", EventID: ev.ID, TenantID: "acme", Channel: "email", Status: store.StatusDelivered, At: now},
		{DeliveryID: ev.ID + ":acme/hook", EventID: ev.ID, TenantID: "acme", Channel: "webhook", Destination: "hook", Status: store.StatusDelivered, At: now},
		// A replay an hour later: its own delivery, the same event.
		{DeliveryID: ev.ID + ":slack:replay-1", EventID: ev.ID, TenantID: "acme", Channel: "slack", Status: store.StatusDelivered, At: now.Add(time.Hour)},
		{DeliveryID: other.ID + ":slack", EventID: other.ID, TenantID: "globex", Channel: "slack", Status: store.StatusDelivered, At: now},
		// An event that EVENTS does not hold (aged out).
		{DeliveryID: "01J0000000000000000000000:slack", EventID: "01J0000000000000000000000", TenantID: "acme", Channel: "slack", Status: store.StatusDead, At: now},
	} {
		r.EventType = "payment.failed"
		recordAt(t, p.store, r)
	}
	esc := func(id string) string { return url.PathEscape(id) }

	// Slack: the request body, and the event as published.
	sl := p.preview(t, "/admin/notifications/deliveries/"+esc(ev.ID+":slack")+"/preview", adminToken)
	if sl.DeliveryID != ev.ID+":slack" || sl.Channel != "slack" || sl.Note != "rendered now with the current templates" || sl.RenderedAt.IsZero() {
		t.Errorf("slack preview: %+v", sl)
	}
	if !jsonEqual(sl.Event, published) {
		t.Errorf("slack preview's event = %s, want as published %s", sl.Event, published)
	}
	var slack struct {
		ContentType string          `json:"content_type"`
		Body        json.RawMessage `json:"body"`
	}
	if err := json.Unmarshal(sl.Payload, &slack); err != nil || !strings.HasPrefix(slack.ContentType, "application/json") {
		t.Fatalf("slack payload %s: %v", sl.Payload, err)
	}
	var body map[string]any
	if err := json.Unmarshal(slack.Body, &body); err != nil || (body["blocks"] == nil && body["text"] == nil) {
		t.Errorf("slack body %s is not a Slack message", slack.Body)
	}
	if !bytes.Contains(slack.Body, []byte("card declined")) {
		t.Errorf("slack body %s does not render the event's reason", slack.Body)
	}

	// Email: subject, text and HTML.
	em := p.preview(t, "/admin/notifications/deliveries/"+esc(ev.ID+":email")+"/preview", adminToken)
	var mail struct{ Subject, Text, HTML string }
	if err := json.Unmarshal(em.Payload, &mail); err != nil || mail.Subject == "" || !strings.Contains(mail.Text, "card declined") ||
		!strings.Contains(mail.HTML, "<") || !strings.Contains(mail.HTML, "card declined") {
		t.Errorf("email payload %s: want subject, text and html", em.Payload)
	}
	if !jsonEqual(em.Event, published) {
		t.Errorf("email preview's event = %s", em.Event)
	}

	// Webhook: the event as is; an unescaped id with a '/' reaches it too.
	for _, path := range []string{
		"/admin/notifications/deliveries/" + esc(ev.ID+":acme/hook") + "/preview",
		"/admin/notifications/deliveries/" + ev.ID + ":acme/hook/preview",
	} {
		wh := p.preview(t, path, adminToken)
		if !jsonEqual(wh.Payload, published) || !jsonEqual(wh.Event, published) {
			t.Errorf("GET %s: payload %s, want the event as published", path, wh.Payload)
		}
	}

	// The replay finds the event its original delivery was for.
	rp := p.preview(t, "/admin/notifications/deliveries/"+esc(ev.ID+":slack:replay-1")+"/preview", adminToken)
	if !jsonEqual(rp.Event, published) || !jsonEqual(rp.Payload, sl.Payload) {
		t.Errorf("replayed delivery's preview: %s %s", rp.Event, rp.Payload)
	}

	// Gone from EVENTS, and unknown.
	a := p.do(t, "GET", "/admin/notifications/deliveries/"+esc("01J0000000000000000000000:slack")+"/preview", adminToken, nil)
	if a.status != http.StatusNotFound || !strings.Contains(a.message(t), "no longer in the EVENTS stream") {
		t.Errorf("an event not in EVENTS: %s, want 404 saying so", a)
	}
	if a := p.do(t, "GET", "/admin/notifications/deliveries/nope:slack/preview", adminToken, nil); a.status != http.StatusNotFound {
		t.Errorf("an unknown delivery: %s, want 404", a)
	}

	// A tenant: its own deliveries' detail and preview, not another tenant's.
	acme := p.newKey(t, "acme")
	tp := p.preview(t, "/v1/tenants/acme/deliveries/"+esc(ev.ID+":slack")+"/preview", acme.Key)
	if !jsonEqual(tp.Payload, sl.Payload) {
		t.Errorf("acme's preview %s differs from the admin's %s", tp.Payload, sl.Payload)
	}
	if a := p.do(t, "GET", "/v1/tenants/acme/deliveries/"+esc(ev.ID+":acme/hook"), acme.Key, nil); a.status != http.StatusOK ||
		!strings.Contains(string(a.body), `"attempts_detail"`) {
		t.Errorf("acme's delivery detail: %s", a)
	}
	for _, path := range []string{
		"/v1/tenants/acme/deliveries/" + esc(other.ID+":slack") + "/preview",
		"/v1/tenants/acme/deliveries/" + esc(other.ID+":slack"),
		"/v1/tenants/globex/deliveries/" + esc(other.ID+":slack") + "/preview",
	} {
		if a := p.do(t, "GET", path, acme.Key, nil); a.status != http.StatusNotFound || a.errorCode(t) != "not_found" {
			t.Errorf("acme's key: GET %s = %s, want 404", path, a)
		}
	}
	for _, n := range noise {
		if bytes.Contains(sl.Event, []byte(n.ID)) {
			t.Errorf("the preview shows another event %s", n.ID)
		}
	}
}
