package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) { testutil.MainWithPostgres(m) }

// receiver is a webhook endpoint that records what it receives.
type receiver struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []received
}

type received struct {
	header http.Header
	body   []byte
}

// newReceiver listens on ip; the tests use 127.0.0.2 for endpoints the SSRF allow list
// permits and 127.0.0.1 for one it must never reach.
func newReceiver(t *testing.T, ip string) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s (the tests need the loopback addresses 127.0.0.1 and 127.0.0.2): %v", ip, err)
	}
	r := &receiver{}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	r.srv.Listener.Close()
	r.srv.Listener = ln
	r.srv.Start()
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) all() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

// fleet is two dispatcher replicas and a webhook worker on one NATS and PostgreSQL.
type fleet struct {
	dispatchers []*app.Process
	js          jetstream.JetStream
	pub         *sdk.Publisher
	dbURL       string
	ledger      store.Store
	key         string
	cfg         *config.Config
	parts       app.Parts
}

func startFleet(t *testing.T, allow string) *fleet {
	t.Helper()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	key, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"NOTIFICATIONS_NATS_URL":                  n.URL(),
		"NOTIFICATIONS_DATABASE_URL":              dbURL,
		"NOTIFICATIONS_DATA_DIR":                  t.TempDir(),
		"NOTIFICATIONS_HTTP_ADDR":                 "127.0.0.1:0",
		"NOTIFICATIONS_SECRETS_KEY":               key,
		"NOTIFICATIONS_SSRF_ALLOW":                allow,
		"NOTIFICATIONS_RETRY_BACKOFF":             "100ms",
		"NOTIFICATIONS_SEND_TIMEOUT":              "2s",
		"NOTIFICATIONS_RECORDER_FLUSH":            "20ms",
		"NOTIFICATIONS_DESTINATION_DISABLE_AFTER": "24h",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, "")
	if err != nil {
		t.Fatal(err)
	}
	parts := app.Parts{OpenLedger: func(ctx context.Context, cfg *config.Config) (store.Store, error) {
		s, err := postgres.New(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, err
		}
		return s, s.Migrate(ctx)
	}}
	ctx := t.Context()
	f := &fleet{dbURL: dbURL, key: key, cfg: cfg, parts: parts}
	for i := range 2 {
		p, err := app.Start(ctx, cfg, app.Role{Name: fmt.Sprintf("dispatcher-%d", i), Dispatcher: true, Parts: parts}, obs.Discard())
		if err != nil {
			t.Fatalf("start dispatcher %d: %v", i, err)
		}
		t.Cleanup(p.Stop)
		f.dispatchers = append(f.dispatchers, p)
	}
	w, err := app.Start(ctx, cfg, app.Role{Name: "worker", Channels: []string{"webhook"}}, obs.Discard())
	if err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)
	nc := n.Connect(t)
	if f.js, err = jetstream.New(nc); err != nil {
		t.Fatal(err)
	}
	if f.pub, err = sdk.NewPublisher(nc); err != nil {
		t.Fatal(err)
	}
	if f.ledger, err = postgres.New(ctx, dbURL); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.ledger.Close() })
	return f
}

func (f *fleet) service(t *testing.T, i int) control.Destinations {
	t.Helper()
	s := f.dispatchers[i].Destinations()
	if s == nil {
		t.Fatal("a dispatcher has no tenant destinations service")
	}
	return s
}

// publish returns a function that publishes an event a constructor made.
func (f *fleet) publish(t *testing.T) func(*sdk.Event, error) *sdk.Event {
	return func(ev *sdk.Event, err error) *sdk.Event {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.pub.Publish(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
}

// propagated waits until both dispatcher replicas have every change of the destinations
// bucket made so far.
func (f *fleet) propagated(t *testing.T, within time.Duration) {
	t.Helper()
	kv, err := f.js.KeyValue(t.Context(), "herald_destinations")
	if err != nil {
		t.Fatal(err)
	}
	st, err := kv.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	last := st.(*jetstream.KeyValueBucketStatus).StreamInfo().State.LastSeq
	testutil.WaitFor(t, within, "both dispatcher replicas have every change", func() bool {
		return f.dispatchers[0].TenantRevision() >= last && f.dispatchers[1].TenantRevision() >= last
	})
}

// quiesce waits until every published event is dispatched and every delivery settled.
func (f *fleet) quiesce(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	testutil.WaitFor(t, 15*time.Second, "events dispatched and deliveries settled", func() bool {
		c, err := f.js.Consumer(ctx, broker.StreamEvents, broker.ConsumerDispatcher)
		if err != nil {
			return false
		}
		ci, err := c.Info(ctx)
		if err != nil || ci.NumPending != 0 || ci.NumAckPending != 0 {
			return false
		}
		return testutil.StreamMsgs(t, f.js, broker.StreamDeliveries) == 0
	})
}

func webhook(url string, types ...string) control.DestinationInput {
	return control.DestinationInput{Channel: "webhook", Config: json.RawMessage(fmt.Sprintf(`{"url":%q}`, url)), EventTypes: types}
}

// TestTenantDestinationsEndToEnd: a tenant's webhook receives exactly its own tenant's
// subscribed events, signed with its secret; a change of subscription reaches the
// dispatcher replicas at once; internal addresses are never called; and neither the
// database nor the bucket holds a secret in clear.
func TestTenantDestinationsEndToEnd(t *testing.T) {
	acmeRecv := newReceiver(t, "127.0.0.2")
	globexRecv := newReceiver(t, "127.0.0.2")
	internal := newReceiver(t, "127.0.0.1")
	f := startFleet(t, "127.0.0.2/32")
	ctx := t.Context()
	svc := f.service(t, 0)

	in := webhook(acmeRecv.srv.URL+"/hook?token=tok_acme_private", "payment.*")
	in.ID = "hook"
	hook, err := svc.Create(ctx, "acme", in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hook.Secret, "whsec_") {
		t.Fatalf("create without a secret answered secret %q, want a new whsec_ one", hook.Secret)
	}
	if bytes.Contains(hook.Config, []byte(hook.Secret)) || bytes.Contains(hook.Config, []byte("tok_acme_private")) {
		t.Fatalf("create answered an unmasked config: %s", hook.Config)
	}
	globexIn := webhook(globexRecv.srv.URL+"/g", "*")
	globexIn.ID = "hook" // the same id in another tenant
	globex, err := f.service(t, 1).Create(ctx, "globex", globexIn)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{internal.srv.URL + "/loopback", "http://169.254.169.254/latest/meta-data/"} {
		if _, err := svc.Create(ctx, "acme", webhook(u, "payment.*")); err != nil {
			t.Fatal(err)
		}
	}

	f.propagated(t, time.Second)
	want := []*sdk.Event{
		f.publish(t)(sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 12})),
		f.publish(t)(sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: 12, Currency: "EUR", PaymentID: "p1"})),
	}
	f.publish(t)(sdk.NewTenantCreated("acme", sdk.TenantCreated{Name: "Acme", Email: "ops@acme.test", BillingPlan: "pro"}))
	globexEv := f.publish(t)(sdk.NewPaymentFailed("globex", sdk.PaymentFailed{TenantID: "globex", Reason: "expired", Amount: 3}))
	f.publish(t)(sdk.New("payment.failed", "", map[string]any{"tenant_id": "none", "reason": "x", "amount": 1}))
	f.quiesce(t)

	got := acmeRecv.all()
	if len(got) != len(want) {
		t.Fatalf("acme's hook received %d deliveries, want %d (its payment events only)", len(got), len(want))
	}
	verifier, err := sdk.NewVerifier(hook.Secret)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range got {
		if err := verifier.Verify(r.header, r.body); err != nil {
			t.Errorf("acme's delivery does not verify with its secret: %v", err)
		}
		ids[r.header.Get("webhook-id")] = true
	}
	for _, ev := range want {
		if id := ev.ID + ":acme/hook"; !ids[id] {
			t.Errorf("acme's hook did not receive webhook-id %s; got %v", id, ids)
		}
	}
	if g := globexRecv.all(); len(g) != 1 || g[0].header.Get("webhook-id") != globexEv.ID+":globex/hook" {
		t.Errorf("globex's hook received %d deliveries, want exactly its own payment event", len(g))
	} else if v, _ := sdk.NewVerifier(globex.Secret); v.Verify(g[0].header, g[0].body) != nil {
		t.Errorf("globex's delivery does not verify with globex's secret")
	}
	if n := len(internal.all()); n != 0 {
		t.Fatalf("a tenant URL at 127.0.0.1 was called %d times", n)
	}
	// The refused deliveries failed for good, saying why.
	var ds []store.Delivery
	testutil.WaitFor(t, 10*time.Second, "the ledger records the event's three deliveries", func() bool {
		ds, err = f.ledger.Deliveries(ctx, store.Filter{TenantID: "acme", EventID: want[0].ID})
		return err == nil && len(ds) == 3 && ds[0].Status != store.StatusPending && ds[1].Status != store.StatusPending && ds[2].Status != store.StatusPending
	})
	refused := 0
	for _, d := range ds {
		if d.Destination != "acme/hook" {
			if d.Status != store.StatusFailed || !strings.Contains(d.LastError, "SSRF") {
				t.Errorf("delivery to %s: status %s, error %q; want failed by the SSRF guard", d.Destination, d.Status, d.LastError)
			}
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("ledger has %d refused deliveries of the event, want 2 (loopback and metadata): %+v", refused, ds)
	}

	// Change the subscription on one replica: both route by it within a second.
	types := []string{"tenant.*"}
	changed := time.Now()
	if _, err := f.service(t, 1).Update(ctx, "acme", "hook", control.DestinationPatch{EventTypes: &types}); err != nil {
		t.Fatal(err)
	}
	f.propagated(t, time.Second)
	t.Logf("subscription change on both replicas after %s", time.Since(changed))
	for range 8 { // several events, so that both replicas take some
		f.publish(t)(sdk.NewTenantCreated("acme", sdk.TenantCreated{Name: "Acme", Email: "ops@acme.test", BillingPlan: "pro"}))
		f.publish(t)(sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "again", Amount: 1}))
	}
	f.quiesce(t)
	got = acmeRecv.all()[len(want):]
	if len(got) != 8 {
		t.Fatalf("after the change acme's hook received %d deliveries, want the 8 tenant.created", len(got))
	}
	for _, r := range got {
		var ev sdk.Event
		if err := json.Unmarshal(r.body, &ev); err != nil || ev.Type != sdk.TypeTenantCreated {
			t.Errorf("after the change acme's hook received %s, want tenant.created only", ev.Type)
		}
	}
	// No secret in clear in the database or in the bucket.
	secrets := []string{hook.Secret, globex.Secret, "tok_acme_private", "169.254.169.254/latest", acmeRecv.srv.URL}
	conn, err := pgx.Connect(ctx, f.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT config FROM notification_config")
	if err != nil {
		t.Fatal(err)
	}
	raws, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil || len(raws) != 4 {
		t.Fatalf("read notification_config: %d rows, %v", len(raws), err)
	}
	kv, err := f.js.KeyValue(ctx, "herald_destinations")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		e, err := kv.Get(ctx, k)
		if err != nil {
			t.Fatal(err)
		}
		raws = append(raws, e.Value())
	}
	for _, raw := range raws {
		for _, s := range secrets {
			if bytes.Contains(raw, []byte(s)) {
				t.Fatalf("a secret is stored in clear: %q in %s", s, raw)
			}
		}
	}
}

// TestSecretsRewrap: the rewrap command seals every destination under the first key, in the
// database and in the bucket, so that the old key can go; a key list without the key in use
// fails naming the destination.
func TestSecretsRewrap(t *testing.T) {
	f := startFleet(t, "")
	ctx := t.Context()
	for _, id := range []string{"a", "b"} {
		in := webhook("https://example.com/"+id, "*")
		in.ID = id
		if _, err := f.service(t, 0).Create(ctx, "acme", in); err != nil {
			t.Fatal(err)
		}
	}
	next, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cfg := *f.cfg
	cfg.SecretsKey = next + "," + f.key
	n, err := app.Rewrap(ctx, &cfg, f.parts)
	if err != nil || n != 2 {
		t.Fatalf("rewrap: %d, %v; want 2", n, err)
	}
	kr, _ := secretbox.ParseKeys(next)
	kv, err := f.js.KeyValue(ctx, "herald_destinations")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		e, err := kv.Get(ctx, "d.acme."+id)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(e.Value(), []byte(`"v1.`+kr.PrimaryID()+`.`)) {
			t.Errorf("the bucket's entry of %s is not sealed under the new key", id)
		}
	}
	cfg.SecretsKey = next
	if n, err := app.Rewrap(ctx, &cfg, f.parts); err != nil || n != 0 {
		t.Errorf("with the new key alone: %d, %v; want nothing left to rewrap", n, err)
	}
	wrong, _ := secretbox.GenerateKey()
	cfg.SecretsKey = wrong
	if _, err := app.Rewrap(ctx, &cfg, f.parts); !errors.Is(err, secretbox.ErrUnknownKey) || !strings.Contains(err.Error(), "acme/") {
		t.Errorf("with a wrong key: %v; want ErrUnknownKey naming a destination", err)
	}
}
