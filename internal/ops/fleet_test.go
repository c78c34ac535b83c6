package ops_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/ops"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) {
	testutil.MainWithPostgres(m, goleak.IgnoreCurrent(),
		goleak.IgnoreTopFunction("github.com/jackc/pgx/v5/pgxpool.(*Pool).backgroundHealthCheck"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	)
}

// waitLong bounds the waits on the fleet; Slack's pace (one message a second per webhook)
// makes the slowest of them last seconds.
const waitLong = 90 * time.Second

// fakeSlack is an incoming webhook that can be taken down: while down it answers 500.
type fakeSlack struct {
	*httptest.Server
	down     atomic.Bool
	mu       sync.Mutex
	accepted int
}

func newFakeSlack(t testing.TB) *fakeSlack {
	f := &fakeSlack{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if f.down.Load() {
			http.Error(w, "internal_error", http.StatusInternalServerError)
			return
		}
		f.mu.Lock()
		f.accepted++
		f.mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) Accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accepted
}

// receiver is a webhook endpoint that records the webhook-id of every request.
type receiver struct {
	*httptest.Server
	status atomic.Int32
	mu     sync.Mutex
	ids    map[string]int
	times  map[string]time.Time // first arrival of each event id, from the body
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{ids: map[string]int{}, times: map[string]time.Time{}}
	r.status.Store(http.StatusOK)
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		var ev struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(body, &ev)
		r.mu.Lock()
		r.ids[req.Header.Get("webhook-id")]++
		if _, ok := r.times[ev.ID]; !ok {
			r.times[ev.ID] = time.Now()
		}
		r.mu.Unlock()
		w.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) count(webhookID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[webhookID]
}

func (r *receiver) arrived(eventID string) (time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.times[eventID]
	return at, ok
}

const webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// fleetEnv configures a whole fleet on the test's NATS and PostgreSQL: Slack gets payment
// events, the webhook every event; one retry 50 ms apart and no circuit breaker, so that an
// outage dead-letters quickly.
func fleetEnv(t testing.TB, natsURL, dbURL, slackURL, hookURL string) map[string]string {
	return map[string]string{
		"NOTIFICATIONS_NATS_URL":          natsURL,
		"NOTIFICATIONS_DATABASE_URL":      dbURL,
		"NOTIFICATIONS_DATA_DIR":          t.TempDir(),
		"NOTIFICATIONS_HTTP_ADDR":         "127.0.0.1:0",
		"NOTIFICATIONS_SLACK_ENABLED":     "true",
		"NOTIFICATIONS_SLACK_WEBHOOK_URL": slackURL + "/services/T12345678/B1234567890/abcdefghijklmnopqrstuvwx",
		"NOTIFICATIONS_WEBHOOK_ENABLED":   "true",
		"NOTIFICATIONS_WEBHOOK_URL":       hookURL + "/hooks/herald",
		"NOTIFICATIONS_WEBHOOK_SECRET":    webhookSecret,
		"NOTIFICATIONS_ROUTES":            `{"payment.*":["slack","webhook"],"*":["webhook"]}`,
		"NOTIFICATIONS_MAX_RETRIES":       "1",
		"NOTIFICATIONS_RETRY_BACKOFF":     "50ms",
		"NOTIFICATIONS_CIRCUIT_THRESHOLD": "0",
		"NOTIFICATIONS_SEND_TIMEOUT":      "2s",
		"NOTIFICATIONS_RECORDER_FLUSH":    "20ms",
		"NOTIFICATIONS_LOG_FORMAT":        "json",
		"NOTIFICATIONS_LOG_LEVEL":         "warn",
	}
}

// startFleet runs the dispatcher, recorder and every channel's worker in the test's process.
func startFleet(t testing.TB, env map[string]string) *app.Process {
	t.Helper()
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
	if p.Ops() == nil {
		t.Fatal("the dispatcher process has no operators' engines")
	}
	return p
}

// publish publishes events as a producer does and returns them.
func publish(t *testing.T, js jetstream.JetStream, evs ...*sdk.Event) {
	t.Helper()
	for _, ev := range evs {
		body, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(t.Context(), ev.Subject("herald"), body, jetstream.WithMsgID(ev.ID)); err != nil {
			t.Fatalf("publish: %v", err)
		}
	}
}

func paymentFailed(t *testing.T, tenant string) *sdk.Event {
	t.Helper()
	ev, err := sdk.NewPaymentFailed(tenant, sdk.PaymentFailed{TenantID: tenant, Reason: "card declined", Amount: 12.5})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// all pages through a list to its end, failing on a repeated delivery.
func all(t *testing.T, list func(control.Page) ([]store.Delivery, string, error), limit int) []store.Delivery {
	t.Helper()
	var out []store.Delivery
	seen := map[string]bool{}
	page := control.Page{Limit: limit}
	for range 1000 {
		items, next, err := list(page)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, d := range items {
			if seen[d.DeliveryID] {
				t.Fatalf("delivery %s listed twice", d.DeliveryID)
			}
			seen[d.DeliveryID] = true
		}
		out = append(out, items...)
		if next == "" {
			return out
		}
		page.Cursor = next
	}
	t.Fatal("the list does not end")
	return nil
}

func waitReplay(t *testing.T, r control.Replays, id string) control.Replay {
	t.Helper()
	var job control.Replay
	testutil.WaitFor(t, waitLong, "replay "+id+" to end", func() bool {
		var err error
		if job, err = r.Get(t.Context(), id); err != nil {
			t.Fatalf("Get: %v", err)
		}
		return job.State != control.ReplayRunning
	})
	return job
}

// TestOutageRedriveReplay is the operator's day after a Slack outage: the failed deliveries
// are found in the history, the dead ones redriven and delivered under their delivery ids,
// and a replay of the last hour of payment.* to Slack delivers each event once more under
// the replay's delivery ids; a replay to the original webhook destination carries the
// replay id in its webhook-id.
func TestOutageRedriveReplay(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	slack := newFakeSlack(t)
	hook := newReceiver(t)
	p := startFleet(t, fleetEnv(t, n.URL(), dbURL, slack.URL, hook.URL))
	svc := p.Ops()
	dead, replays := svc.DeadLetters(), svc.Replays()
	ctx := t.Context()
	js, err := jetstream.New(n.Connect(t))
	if err != nil {
		t.Fatal(err)
	}

	// The outage: every Slack send fails, each delivery dies after its two attempts.
	slack.down.Store(true)
	var payments []*sdk.Event
	for i := range 4 {
		payments = append(payments, paymentFailed(t, fmt.Sprintf("tenant-%d", i%2)))
	}
	node, err := sdk.NewNodeLaunched("tenant-0", sdk.NodeLaunched{NodeID: "n-1", Provider: "aws", Region: "eu-west-1", GPUType: "H100", GPUCount: 8})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, js, append(payments, node)...)
	slackDead := func() []store.Delivery {
		return all(t, func(pg control.Page) ([]store.Delivery, string, error) {
			return dead.List(ctx, control.DeliveryQuery{Channel: "slack", Page: pg})
		}, 3)
	}
	testutil.WaitFor(t, waitLong, "4 Slack dead letters", func() bool { return len(slackDead()) == 4 })

	// Found in the history, a page at a time.
	failed := all(t, func(pg control.Page) ([]store.Delivery, string, error) {
		return svc.Deliveries(ctx, control.DeliveryQuery{EventType: "payment.*", Statuses: []store.Status{store.StatusDead, store.StatusFailed}, Page: pg})
	}, 3)
	if len(failed) != 4 {
		t.Fatalf("history of failed payment deliveries: %d, want 4", len(failed))
	}
	for _, d := range failed {
		if d.Channel != "slack" || d.Status != store.StatusDead || d.Attempts != 2 || d.LastError == "" {
			t.Errorf("failed delivery %+v: want slack, dead after 2 attempts, with its error", d)
		}
	}
	detail, err := svc.Delivery(ctx, failed[0].DeliveryID)
	if err != nil || len(detail.AttemptsDetail) != 2 || detail.AttemptsDetail[1].HTTPStatus != http.StatusInternalServerError {
		t.Fatalf("Delivery(%s) = %+v, %v; want 2 attempts, the last a 500", failed[0].DeliveryID, detail, err)
	}
	// Every webhook delivery went through, outage or not.
	testutil.WaitFor(t, waitLong, "webhook deliveries", func() bool {
		ds, _, err := svc.Deliveries(ctx, control.DeliveryQuery{Channel: "webhook", Statuses: []store.Status{store.StatusDelivered}, Page: control.Page{Limit: 100}})
		return err == nil && len(ds) == 5
	})
	st, err := svc.Status(ctx)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, c := range st.Channels {
		if c.Channel == "slack" && (c.DeadLetters != 4 || c.SuccessRate5m == nil || *c.SuccessRate5m != 0) {
			t.Errorf("slack status %+v: want 4 dead letters and a 0 success rate", c)
		}
	}

	// Slack is back: redrive the dead letters.
	slack.down.Store(false)
	if _, err := dead.Redrive(ctx, control.DeadSelection{}); err == nil {
		t.Error("Redrive of an empty selection succeeded")
	}
	nRedriven, err := dead.Redrive(ctx, control.DeadSelection{Channel: "slack"})
	if err != nil || nRedriven != 4 {
		t.Fatalf("Redrive = %d, %v; want 4", nRedriven, err)
	}
	for _, d := range failed {
		testutil.WaitFor(t, waitLong, d.DeliveryID+" delivered", func() bool {
			got, err := svc.Delivery(ctx, d.DeliveryID)
			return err == nil && got.Status == store.StatusDelivered
		})
		got, _ := svc.Delivery(ctx, d.DeliveryID)
		if got.Attempts != 3 || len(got.AttemptsDetail) != 3 || got.AttemptsDetail[2].Status != store.StatusDelivered {
			t.Errorf("redriven %s: %d attempts %+v, want a third, delivered", d.DeliveryID, got.Attempts, got.AttemptsDetail)
		}
	}
	if got := slackDead(); len(got) != 0 {
		t.Errorf("dead list after the redrive: %d, want 0", len(got))
	}
	testutil.WaitFor(t, waitLong, "DEAD emptied", func() bool { return testutil.StreamMsgs(t, js, "DEAD") == 0 })
	if got := slack.Accepted(); got != 4 {
		t.Errorf("Slack accepted %d messages after the redrive, want 4", got)
	}

	// A dry run counts.
	dry, err := replays.Start(ctx, control.ReplayRequest{Since: time.Now().Add(-time.Hour), EventTypes: []string{"payment.*"}, Channels: []string{"slack"}, DryRun: true})
	if err != nil {
		t.Fatalf("Start dry run: %v", err)
	}
	if dry = waitReplay(t, replays, dry.ID); dry.State != control.ReplayDone || dry.Matched != 4 || dry.Dispatched != 4 {
		t.Errorf("dry run %+v: want done, 4 matched, 4 to dispatch", dry)
	}

	// Replay the last hour of payment.* to Slack: each event once more.
	job, err := replays.Start(ctx, control.ReplayRequest{Since: time.Now().Add(-time.Hour), EventTypes: []string{"payment.*"}, Channels: []string{"slack"}})
	if err != nil {
		t.Fatalf("Start replay: %v", err)
	}
	if job = waitReplay(t, replays, job.ID); job.State != control.ReplayDone || job.Matched != 4 || job.Dispatched != 4 {
		t.Fatalf("replay %+v: want done, 4 matched and dispatched", job)
	}
	for _, ev := range payments {
		id := ev.ID + ":slack:" + job.ID
		testutil.WaitFor(t, waitLong, id+" delivered", func() bool {
			got, err := svc.Delivery(ctx, id)
			return err == nil && got.Status == store.StatusDelivered
		})
	}
	if got := slack.Accepted(); got != 8 {
		t.Errorf("Slack accepted %d messages after the replay, want 8 (each event once more)", got)
	}
	if testutil.StreamMsgs(t, js, "DELIVERIES") != 0 {
		t.Error("DELIVERIES is not empty after the replay")
	}

	// To the original webhook destination: the replay id is in the webhook-id.
	job, err = replays.Start(ctx, control.ReplayRequest{Since: time.Now().Add(-time.Hour), Channels: []string{"webhook"}, Destinations: ops.DestinationsOriginal})
	if err != nil {
		t.Fatalf("Start replay: %v", err)
	}
	if job = waitReplay(t, replays, job.ID); job.State != control.ReplayDone || job.Matched != 5 || job.Dispatched != 5 {
		t.Fatalf("webhook replay %+v: want done, 5 matched and dispatched", job)
	}
	for _, ev := range append(payments, node) {
		replayed := ev.ID + ":webhook:" + job.ID
		testutil.WaitFor(t, waitLong, "webhook-id "+replayed, func() bool { return hook.count(replayed) == 1 })
		if got := hook.count(ev.ID + ":webhook"); got != 1 {
			t.Errorf("webhook-id %s:webhook received %d times, want once (the original)", ev.ID, got)
		}
	}
	// Get and Cancel of a finished job.
	if got, err := replays.Cancel(ctx, job.ID); err != nil || got.State != control.ReplayDone {
		t.Errorf("Cancel(done job) = %+v, %v; want it unchanged", got, err)
	}
	if _, err := replays.Get(ctx, "01ARZ3NDEKTSV4RRFFQ69G5FAV"); err == nil {
		t.Error("Get of an unknown replay succeeded")
	}
}
