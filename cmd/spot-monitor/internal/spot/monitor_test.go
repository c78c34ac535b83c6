package spot_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/cmd/spot-monitor/internal/spot"
	"github.com/heraldhq/herald/cmd/spot-monitor/internal/spot/spottest"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// cloudCase is one cloud's fake metadata service, with a way to raise a notice on it.
type cloudCase struct {
	cloud      string
	instanceID string
	fake       interface {
		Polls() int
		Refused() []string
	}
	// raise makes the fake announce a termination notice and returns the key the Source
	// must derive from it and the time remaining the event must state (within a second).
	raise func() (key string, remaining time.Duration)
	// reason is what the event's reason must say.
	reason string
}

func awsCase(t *testing.T) cloudCase {
	f := spottest.NewAWS(t, "i-0123456789abcdef0")
	return cloudCase{
		cloud: spot.CloudAWS, instanceID: f.InstanceID, fake: f, reason: "AWS spot instance interruption: terminate",
		raise: func() (string, time.Duration) {
			at := time.Now().Add(2 * time.Minute).Truncate(time.Second)
			f.SetNotice("terminate", at)
			return "terminate@" + at.UTC().Format(time.RFC3339), time.Until(at)
		},
	}
}

func gcpCase(t *testing.T) cloudCase {
	f := spottest.NewGCP(t, "4520891349872340001")
	return cloudCase{
		cloud: spot.CloudGCP, instanceID: f.InstanceID, fake: f, reason: "GCP spot VM preempted",
		raise: func() (string, time.Duration) {
			f.SetPreempted(true)
			return "preempted/boot-1", spot.GCPPreemptionNotice
		},
	}
}

func azureCase(t *testing.T) cloudCase {
	f := spottest.NewAzure(t, "02aab8a4-74ef-476e-8182-f6d2ba4166a6", "gpu-node-7")
	return cloudCase{
		cloud: spot.CloudAzure, instanceID: f.VMID, fake: f, reason: "Azure spot VM eviction (Preempt)",
		raise: func() (string, time.Duration) {
			at := time.Now().Add(45 * time.Second).Truncate(time.Second)
			f.AddEvent("f020ba2e-3bc0-4c40-a10b-86575a9eabd5", "Preempt", []string{"gpu-node-7"}, at)
			return "f020ba2e-3bc0-4c40-a10b-86575a9eabd5", time.Until(at)
		},
	}
}

// TestOneEventPerNotice: for each cloud, no event while there is no notice, then exactly
// one node.terminated event (one publish, not one per poll) while the notice stays up for
// many polls, with the id derived from the cloud, instance and notice, and every request
// within the provider's documented contract.
func TestOneEventPerNotice(t *testing.T) {
	for _, mk := range []func(*testing.T) cloudCase{awsCase, gcpCase, azureCase} {
		c := mk(t)
		t.Run(c.cloud, func(t *testing.T) {
			n := startNATS(t)
			nc, js := n.js(t)
			defer nc.Close()
			publishes := countPublishes(t, nc)
			src, err := spot.New(c.cloud, spot.Options{BaseURL: fakeURL(c.fake), BootID: "boot-1"})
			if err != nil {
				t.Fatal(err)
			}
			logs := runMonitor(t, n, spot.Config{Source: src, Tenant: "acme"})

			waitPolls(t, c.fake, 10)
			if got := publishes.n.Load(); got != 0 {
				t.Fatalf("%d publishes without a notice", got)
			}

			key, remaining := c.raise()
			testutil.WaitFor(t, 10*time.Second, "the event in EVENTS", func() bool { return len(events(t, js)) > 0 })
			waitPolls(t, c.fake, 30) // the notice stands
			if got := publishes.n.Load(); got != 1 {
				t.Errorf("%d publishes for one notice seen over 30 polls, want 1", got)
			}
			evs := events(t, js)
			if len(evs) != 1 {
				t.Fatalf("EVENTS holds %d events, want 1", len(evs))
			}
			checkEvent(t, evs[0], spot.EventID(c.cloud, c.instanceID, key), c.instanceID, c.reason, remaining)
			if r := c.fake.Refused(); len(r) > 0 {
				t.Errorf("the fake refused requests: %q", r)
			}
			if got := logs.count("termination notice"); got != 1 {
				t.Errorf("%d termination notice lines, want 1; logs:\n%s", got, logs)
			}
		})
	}
}

func fakeURL(f any) string {
	switch f := f.(type) {
	case *spottest.AWS:
		return f.URL
	case *spottest.GCP:
		return f.URL
	case *spottest.Azure:
		return f.URL
	}
	panic("unknown fake")
}

func checkEvent(t *testing.T, ev *sdk.Event, id, nodeID, reason string, remaining time.Duration) {
	t.Helper()
	if ev.ID != id {
		t.Errorf("event id %q, want %q", ev.ID, id)
	}
	if ev.Type != sdk.TypeNodeTerminated || ev.TenantID != "acme" || ev.Source != spot.DefaultEventSource ||
		ev.Severity != sdk.SeverityCritical {
		t.Errorf("event type %q tenant %q source %q severity %q, want node.terminated, acme, %s, critical",
			ev.Type, ev.TenantID, ev.Source, spot.DefaultEventSource, ev.Severity)
	}
	var data sdk.NodeTerminated
	if err := json.Unmarshal(ev.Data, &data); err != nil {
		t.Fatalf("data: %v", err)
	}
	if data.NodeID != nodeID || data.Reason != reason {
		t.Errorf("data %+v, want node_id %q and reason %q", data, nodeID, reason)
	}
	// The event is built within a few polls of the notice; allow for a slow machine.
	if got := data.TimeRemaining.Duration(); got > remaining+time.Second || got < remaining-5*time.Second {
		t.Errorf("time_remaining %s, want about %s", got, remaining)
	}
}

// TestNATSOutage: NATS stops, a notice appears while it is down, and the monitor keeps
// trying; after NATS restarts on the same store, the event arrives once, with the id
// derived from the notice, however many publishes the outage cost.
func TestNATSOutage(t *testing.T) {
	n := startNATS(t)
	f := spottest.NewAWS(t, "i-0feedfacecafe0001")
	src, err := spot.New(spot.CloudAWS, spot.Options{BaseURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	logs := runMonitor(t, n, spot.Config{Source: src, Tenant: "acme"})
	waitPolls(t, f, 5)

	n.stop()
	at := time.Now().Add(2 * time.Minute).Truncate(time.Second)
	f.SetNotice("terminate", at)
	testutil.WaitFor(t, 20*time.Second, "failed publishes during the outage", func() bool {
		return logs.count("publishing node.terminated failed; retrying") >= 3
	})
	if got := logs.count("published node.terminated"); got != 0 {
		t.Fatalf("published with NATS down; logs:\n%s", logs)
	}

	n.start(t)
	nc, js := n.js(t)
	defer nc.Close()
	testutil.WaitFor(t, 20*time.Second, "the event after NATS came back", func() bool {
		return logs.count("published node.terminated") == 1
	})
	waitPolls(t, f, 20)
	evs := events(t, js)
	if len(evs) != 1 {
		t.Fatalf("EVENTS holds %d events after the outage, want 1", len(evs))
	}
	want := spot.EventID(spot.CloudAWS, "i-0feedfacecafe0001", "terminate@"+at.UTC().Format(time.RFC3339))
	if evs[0].ID != want {
		t.Errorf("event id %q, want %q", evs[0].ID, want)
	}
	if got := logs.count("published node.terminated"); got != 1 {
		t.Errorf("%d successful publishes, want 1", got)
	}
}

// TestRestartedMonitorSameID: a monitor restarted while the notice stands derives the same
// event id, and the stream drops its copy as a duplicate.
func TestRestartedMonitorSameID(t *testing.T) {
	n := startNATS(t)
	nc, js := n.js(t)
	defer nc.Close()
	f := spottest.NewAzure(t, "0c6f6f2e-5f0b-4a5e-9d8e-2f1a3b4c5d6e", "gpu-node-9")
	f.AddEvent("8c1c6c07-1c2d-4f0e-b2c5-5d1d6f6e7a8b", "Preempt", []string{"gpu-node-9"}, time.Now().Add(time.Minute))
	for range 2 {
		src, err := spot.New(spot.CloudAzure, spot.Options{BaseURL: f.URL})
		if err != nil {
			t.Fatal(err)
		}
		nc2, err := natsConnect(n)
		if err != nil {
			t.Fatal(err)
		}
		pub, _ := sdk.NewPublisher(nc2)
		m, err := spot.NewMonitor(spot.Config{Source: src, Publisher: pub, Interval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Run(ctx) }()
		testutil.WaitFor(t, 10*time.Second, "the event in EVENTS", func() bool { return len(events(t, js)) > 0 })
		waitPolls(t, f, 5)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		nc2.Close()
	}
	if evs := events(t, js); len(evs) != 1 {
		t.Errorf("EVENTS holds %d events after two monitors saw one notice, want 1", len(evs))
	}
}

// TestAzureEvents: events for another VM of the set and events that bring the VM back
// raise nothing; Preempt and then Terminate raise one event each; approval is sent only
// when configured, and only after the event is published.
func TestAzureEvents(t *testing.T) {
	for _, approve := range []bool{false, true} {
		t.Run(map[bool]string{false: "no-approval", true: "approval"}[approve], func(t *testing.T) {
			n := startNATS(t)
			nc, js := n.js(t)
			defer nc.Close()
			f := spottest.NewAzure(t, "5b3c1e0e-9d8a-4f5b-8e7d-6c5b4a392817", "gpu-node-1")
			src, err := spot.New(spot.CloudAzure, spot.Options{BaseURL: f.URL})
			if err != nil {
				t.Fatal(err)
			}
			runMonitor(t, n, spot.Config{Source: src, Acknowledge: approve})
			waitPolls(t, f, 3)
			f.AddEvent("11111111-1111-1111-1111-111111111111", "Preempt", []string{"gpu-node-2"}, time.Now().Add(time.Minute))
			f.AddEvent("22222222-2222-2222-2222-222222222222", "Reboot", []string{"gpu-node-1"}, time.Now().Add(time.Minute))
			f.AddEvent("33333333-3333-3333-3333-333333333333", "Freeze", nil, time.Now().Add(time.Minute))
			waitPolls(t, f, 10)
			if evs := events(t, js); len(evs) != 0 {
				t.Fatalf("%d events for another VM's eviction, a reboot and a freeze, want 0", len(evs))
			}
			f.AddEvent("44444444-4444-4444-4444-444444444444", "Preempt", []string{"gpu-node-1"}, time.Now().Add(time.Minute))
			testutil.WaitFor(t, 10*time.Second, "the Preempt event", func() bool { return len(events(t, js)) == 1 })
			f.AddEvent("55555555-5555-5555-5555-555555555555", "Terminate", []string{"gpu-node-1"}, time.Now().Add(10*time.Minute))
			testutil.WaitFor(t, 10*time.Second, "the Terminate event", func() bool { return len(events(t, js)) == 2 })
			waitPolls(t, f, 10)
			if evs := events(t, js); len(evs) != 2 {
				t.Fatalf("%d events, want 2", len(evs))
			}
			want := []string(nil)
			if approve {
				want = []string{"44444444-4444-4444-4444-444444444444", "55555555-5555-5555-5555-555555555555"}
			}
			if got := f.Approved(); !slices.Equal(got, want) {
				t.Errorf("approved %q, want %q", got, want)
			}
			if r := f.Refused(); len(r) > 0 {
				t.Errorf("the fake refused requests: %q", r)
			}
		})
	}
}

// TestAWSTokenRenewal: the IMDSv2 token is renewed before it expires, and a token the
// service no longer knows (it restarted) is replaced at once.
func TestAWSTokenRenewal(t *testing.T) {
	n := startNATS(t)
	t.Run("before-expiry", func(t *testing.T) {
		f := spottest.NewAWS(t, "i-0aaaabbbbccccdddd")
		src, err := spot.New(spot.CloudAWS, spot.Options{BaseURL: f.URL, TokenTTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		runMonitor(t, n, spot.Config{Source: src})
		testutil.WaitFor(t, 10*time.Second, "three tokens", func() bool { return f.TokensIssued() >= 3 })
		if got := f.ExpiredTokenUses(); got != 0 {
			t.Errorf("%d requests with an expired token", got)
		}
		if r := f.Refused(); len(r) > 0 {
			t.Errorf("the fake refused requests: %q", r)
		}
	})
	t.Run("forgotten", func(t *testing.T) {
		f := spottest.NewAWS(t, "i-0aaaabbbbccccdddd")
		src, err := spot.New(spot.CloudAWS, spot.Options{BaseURL: f.URL}) // a 6-hour token
		if err != nil {
			t.Fatal(err)
		}
		runMonitor(t, n, spot.Config{Source: src})
		waitPolls(t, f, 3)
		f.ForgetTokens()
		issued := f.TokensIssued()
		waitPolls(t, f, 5)
		if got := f.TokensIssued(); got != issued+1 {
			t.Errorf("%d tokens after the service forgot them, want 1", got-issued)
		}
		if got := len(f.Refused()); got != 1 {
			t.Errorf("%d requests refused after the service forgot its tokens, want 1: %q", got, f.Refused())
		}
	})
}

func natsConnect(n *natsAt) (*nats.Conn, error) {
	return nats.Connect(n.url(), nats.MaxReconnects(-1), nats.ReconnectWait(20*time.Millisecond))
}

// TestFakesEnforceContracts: the fakes refuse what the providers refuse, so that the tests
// above, which see no refusal, prove the Sources follow each contract.
func TestFakesEnforceContracts(t *testing.T) {
	a := spottest.NewAWS(t, "i-1")
	g := spottest.NewGCP(t, "1")
	z := spottest.NewAzure(t, "vm", "name")
	for _, c := range []struct {
		method, url string
		header      http.Header
		want        int
	}{
		{"GET", a.URL + "/latest/meta-data/instance-id", nil, http.StatusUnauthorized},
		{"GET", a.URL + "/latest/meta-data/instance-id", http.Header{"X-Aws-Ec2-Metadata-Token": {"made-up"}}, http.StatusUnauthorized},
		{"PUT", a.URL + "/latest/api/token", nil, http.StatusBadRequest},
		{"PUT", a.URL + "/latest/api/token", http.Header{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": {"21601"}}, http.StatusBadRequest},
		{"PUT", a.URL + "/latest/api/token", http.Header{"X-Aws-Ec2-Metadata-Token-Ttl-Seconds": {"60"}}, http.StatusOK},
		{"GET", g.URL + "/computeMetadata/v1/instance/preempted", nil, http.StatusForbidden},
		{"GET", g.URL + "/computeMetadata/v1/instance/preempted", http.Header{"Metadata-Flavor": {"Google"}, "X-Forwarded-For": {"10.0.0.1"}}, http.StatusForbidden},
		{"GET", g.URL + "/computeMetadata/v1/instance/preempted", http.Header{"Metadata-Flavor": {"Google"}}, http.StatusOK},
		{"GET", z.URL + "/metadata/scheduledevents?api-version=2020-07-01", nil, http.StatusBadRequest},
		{"GET", z.URL + "/metadata/scheduledevents", http.Header{"Metadata": {"true"}}, http.StatusBadRequest},
		{"GET", z.URL + "/metadata/scheduledevents?api-version=2020-07-01", http.Header{"Metadata": {"true"}}, http.StatusOK},
	} {
		req, _ := http.NewRequest(c.method, c.url, nil)
		req.Header = c.header
		if req.Header == nil {
			req.Header = http.Header{}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %v: %d, want %d", c.method, c.url, c.header, resp.StatusCode, c.want)
		}
	}
}

// TestDetect: auto-detection finds each cloud's metadata service and only that one.
func TestDetect(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ cloud, url string }{
		{spot.CloudAWS, spottest.NewAWS(t, "i-1").URL},
		{spot.CloudGCP, spottest.NewGCP(t, "1").URL},
		{spot.CloudAzure, spottest.NewAzure(t, "vm", "name").URL},
	} {
		got, err := spot.Detect(ctx, spot.Options{BaseURL: c.url})
		if err != nil || got != c.cloud {
			t.Errorf("Detect on the %s fake: %q, %v", c.cloud, got, err)
		}
	}
	none := httptest.NewServer(http.NotFoundHandler())
	defer none.Close()
	if got, err := spot.Detect(ctx, spot.Options{BaseURL: none.URL}); !errors.Is(err, spot.ErrNoCloud) {
		t.Errorf("Detect on a server that is no metadata service: %q, %v; want ErrNoCloud", got, err)
	} else if !strings.Contains(err.Error(), "--cloud") {
		t.Errorf("the error %q does not say what to do", err)
	}
}

// TestEventID: the id depends on the cloud, the instance and the notice, and nothing else,
// and is one a webhook-id can carry.
func TestEventID(t *testing.T) {
	a := spot.EventID("aws", "i-1", "terminate@2026-12-06T12:00:00Z")
	if a != spot.EventID("aws", "i-1", "terminate@2026-12-06T12:00:00Z") {
		t.Error("the same notice gave two ids")
	}
	for _, other := range []string{
		spot.EventID("aws", "i-2", "terminate@2026-12-06T12:00:00Z"),
		spot.EventID("aws", "i-1", "terminate@2026-12-06T12:05:00Z"),
		spot.EventID("gcp", "i-1", "terminate@2026-12-06T12:00:00Z"),
	} {
		if other == a {
			t.Errorf("two notices share the id %s", a)
		}
	}
	ev, err := sdk.NewNodeTerminated("", sdk.NodeTerminated{NodeID: "n"}, sdk.WithID(a))
	if err != nil || ev.ID != a {
		t.Errorf("the SDK refuses the id %q: %v", a, err)
	}
}
