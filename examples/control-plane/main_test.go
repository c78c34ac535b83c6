package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

const paymentsSecret = "whsec_example_payments_secret"

// startFleet runs the whole fleet in this process as the README's single-machine command
// does (embedded NATS, SQLite ledger), with the operator's webhook pointing at r.
func startFleet(t *testing.T, r *webhooktest.Receiver) (*app.Process, string) {
	t.Helper()
	dataDir := t.TempDir()
	env := map[string]string{
		"NOTIFICATIONS_DATA_DIR":           dataDir,
		"NOTIFICATIONS_EMBEDDED_NATS_ADDR": "127.0.0.1:0",
		"NOTIFICATIONS_HTTP_ADDR":          "127.0.0.1:0",
		"NOTIFICATIONS_WEBHOOK_ENABLED":    "true",
		"NOTIFICATIONS_WEBHOOK_URL":        r.URL + "/hooks/herald",
		"NOTIFICATIONS_WEBHOOK_SECRET":     r.Secret(),
		"NOTIFICATIONS_RECORDER_FLUSH":     "20ms",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	p, err := app.Start(context.Background(), cfg, app.Role{
		Name: "herald", Dispatcher: true, Channels: []string{"all"}, EmbeddedNATS: true, Parts: parts.All(),
	}, obs.Discard())
	if err != nil {
		t.Fatalf("start the fleet: %v", err)
	}
	t.Cleanup(p.Stop)
	return p, dataDir
}

// startControlPlane runs the example against the fleet's NATS, as a producer with the seed
// the fleet generated in its data directory.
func startControlPlane(t *testing.T, natsURL, dataDir string) (*Server, string) {
	t.Helper()
	auth, err := natsCredentials(func(k string) string {
		return map[string]string{"NOTIFICATIONS_DATA_DIR": dataDir}[k]
	})
	if err != nil || len(auth) == 0 {
		t.Fatalf("the producer's credentials in %s: %v (%d options)", dataDir, err, len(auth))
	}
	nc, err := nats.Connect(natsURL, auth...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(Config{Publisher: pub, PaymentsSecret: paymentsSecret, LaunchTime: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return srv, hs.URL
}

// call sends a JSON request and decodes the JSON answer.
func call(t *testing.T, method, url string, body []byte, header http.Header) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: answer: %v", method, url, err)
	}
	return resp.StatusCode, out
}

func paymentBody(id, typ string, amount int64, failure string) []byte {
	obj := map[string]any{
		"id": "pi_" + id, "object": "payment_intent", "amount": amount, "currency": "usd",
		"metadata": map[string]string{"tenant_id": "acme-corp", "tenant_name": "Acme Corp"},
	}
	if failure != "" {
		obj["last_payment_error"] = map[string]string{"code": "card_declined", "message": failure}
	}
	b, _ := json.Marshal(map[string]any{
		"id": "evt_" + id, "object": "event", "type": typ, "created": time.Now().Unix(),
		"data": map[string]any{"object": obj},
	})
	return b
}

func signed(body []byte, secret string, at time.Time) http.Header {
	return http.Header{signatureHeader: {sign(body, secret, at)}}
}

// TestControlPlaneThroughHerald: the HTTP calls of a signup, two payment webhooks and a
// node launch arrive at the operator's webhook as the four events they caused, signed
// with the destination's secret; a retried signup, a redelivered payment webhook and
// refused signatures cause nothing more.
func TestControlPlaneThroughHerald(t *testing.T) {
	r := webhooktest.NewReceiver(t, "")
	fleet, dataDir := startFleet(t, r)
	_, base := startControlPlane(t, fleet.NATSURL(), dataDir)

	signup := []byte(`{"name":"Acme Corp","email":"owner@acme.example","billing_plan":"pro"}`)
	status, out := call(t, "POST", base+"/signup", signup, nil)
	if status != http.StatusCreated || out["tenant_id"] != "acme-corp" || out["duplicate"] != false {
		t.Fatalf("signup: %d %v", status, out)
	}
	if status, out = call(t, "POST", base+"/signup", signup, nil); status != http.StatusCreated || out["duplicate"] != true {
		t.Errorf("a retried signup: %d %v, want 201 and a duplicate", status, out)
	}

	now := time.Now()
	succeeded := paymentBody("1PaidA", paymentSucceeded, 4999, "")
	failed := paymentBody("1FailB", paymentFailed, 12000, "Your card was declined.")
	for _, c := range []struct {
		name      string
		body      []byte
		header    http.Header
		want      int
		duplicate bool
	}{
		{"succeeded", succeeded, signed(succeeded, paymentsSecret, now), http.StatusOK, false},
		{"redelivered", succeeded, signed(succeeded, paymentsSecret, now.Add(time.Minute)), http.StatusOK, true},
		{"failed", failed, signed(failed, paymentsSecret, now), http.StatusOK, false},
		{"unsigned", failed, nil, http.StatusBadRequest, false},
		{"other secret", failed, signed(failed, "whsec_someone_else", now), http.StatusBadRequest, false},
		{"stale", failed, signed(failed, paymentsSecret, now.Add(-10*time.Minute)), http.StatusBadRequest, false},
		{"tampered", paymentBody("1FailB", paymentFailed, 1, "x"), signed(failed, paymentsSecret, now), http.StatusBadRequest, false},
		{"other type", []byte(`{"id":"evt_3","type":"customer.created"}`), signed([]byte(`{"id":"evt_3","type":"customer.created"}`), paymentsSecret, now), http.StatusOK, false},
	} {
		status, out := call(t, "POST", base+"/webhooks/payments", c.body, c.header)
		if status != c.want || (c.want == http.StatusOK && out["ignored"] == nil && out["duplicate"] != c.duplicate) {
			t.Errorf("payment webhook %s: %d %v, want %d (duplicate %v)", c.name, status, out, c.want, c.duplicate)
		}
	}

	status, out = call(t, "POST", base+"/nodes", []byte(`{"tenant_id":"acme-corp","provider":"aws","region":"us-east-1",
		"gpu_type":"H100","gpu_count":8,"model":"llama-3-70b","spot":true,"price_per_hour":12.5}`), nil)
	nodeID, _ := out["node_id"].(string)
	if status != http.StatusAccepted || nodeID == "" {
		t.Fatalf("launch: %d %v", status, out)
	}

	r.WaitForDelivered(t, 4, 30*time.Second)
	testutil.WaitFor(t, 10*time.Second, "the node running", func() bool {
		_, out := call(t, "GET", base+"/nodes/"+nodeID, nil, nil)
		return out["status"] == "running"
	})

	// What arrived is the four events, each verified here with the SDK's verifier.
	v, err := sdk.NewVerifier(r.Secret())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*sdk.Event{}
	for id, reqs := range r.ByID() {
		for _, req := range reqs {
			if err := v.Verify(req.Header, req.Body); err != nil {
				t.Errorf("%s: the signature does not verify: %v", id, err)
			}
		}
		ev, err := sdk.Decode(reqs[0].Body)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if id != ev.ID+":webhook" {
			t.Errorf("webhook-id %q for event %q", id, ev.ID)
		}
		got[ev.Type] = ev
	}
	if len(got) != 4 || r.Unique() != 4 {
		t.Fatalf("%d webhook-ids of types %v, want the 4 events the calls caused", r.Unique(), keys(got))
	}
	want := map[string]struct{ id, data string }{
		sdk.TypeTenantCreated:    {"tenant-created-acme-corp", `{"name":"Acme Corp","email":"owner@acme.example","billing_plan":"pro"}`},
		sdk.TypePaymentSucceeded: {"payment-evt_1PaidA", `{"tenant_name":"Acme Corp","amount":49.99,"currency":"USD","payment_id":"pi_1PaidA"}`},
		sdk.TypePaymentFailed:    {"payment-evt_1FailB", `{"tenant_id":"acme-corp","reason":"Your card was declined.","amount":120}`},
	}
	for typ, w := range want {
		ev := got[typ]
		if ev == nil {
			t.Errorf("no %s arrived", typ)
			continue
		}
		if ev.ID != w.id || string(ev.Data) != w.data || ev.TenantID != "acme-corp" {
			t.Errorf("%s: id %q tenant %q data %s; want id %q tenant acme-corp data %s", typ, ev.ID, ev.TenantID, ev.Data, w.id, w.data)
		}
	}
	if ev := got[sdk.TypeNodeLaunched]; ev != nil {
		var d sdk.NodeLaunched
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		if ev.ID != "node-launched-"+nodeID || d.NodeID != nodeID || d.GPUType != "H100" || d.GPUCount != 8 || !d.Spot ||
			d.LaunchDuration.Duration() < 100*time.Millisecond || d.LaunchDuration.Duration() > 10*time.Second {
			t.Errorf("node.launched %s: %+v; want node %s, 8 H100, spot, launch_duration of at least the 100ms launch", ev.ID, d, nodeID)
		}
	} else {
		t.Error("no node.launched arrived")
	}
}

func keys(m map[string]*sdk.Event) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestVerifySignature: the payment provider's signature scheme, case by case.
func TestVerifySignature(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	now := time.Unix(1_765_000_000, 0)
	good := sign(body, "s3cret", now)
	for _, c := range []struct {
		name, header string
		want         error
	}{
		{"good", good, nil},
		{"rolled secret: two v1", good + ",v1=" + fmt.Sprintf("%064x", 0), nil},
		{"missing", "", errNoSignature},
		{"no timestamp", "v1=abcd", errNoSignature},
		{"wrong secret", sign(body, "other", now), errBadSignature},
		{"stale", sign(body, "s3cret", now.Add(-6*time.Minute)), errStale},
		{"from the future", sign(body, "s3cret", now.Add(6*time.Minute)), errStale},
	} {
		if err := verifySignature(c.header, body, "s3cret", 5*time.Minute, now); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if majorUnits(4999, "usd") != 49.99 || majorUnits(500, "JPY") != 500 {
		t.Error("majorUnits: cents to dollars, yen stay yen")
	}
}
