package natsauth_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/broker/embedded"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dispatch"
	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/sdk"
)

// conn is a connection as one role, with the asynchronous errors the server sent it.
type conn struct {
	role natsauth.Role
	nc   *nats.Conn
	js   jetstream.JetStream
	errs chan error
}

func connectAs(t *testing.T, url, dir string, role natsauth.Role) *conn {
	t.Helper()
	c := &conn{role: role, errs: make(chan error, 256)}
	opts, err := natsauth.Client{Creds: natsauth.SeedFile(dir, role)}.Options()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, nats.Name(role.Name()), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case c.errs <- err:
		default:
		}
	}))
	c.nc, err = nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", role.Name(), err)
	}
	t.Cleanup(c.nc.Close)
	if c.js, err = jetstream.New(c.nc); err != nil {
		t.Fatal(err)
	}
	return c
}

func ctx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// refused runs f and checks that the server refused the connection's publish or
// subscription on subject with a permissions violation.
func (c *conn) refused(t *testing.T, subject string, f func()) {
	t.Helper()
	f()
	_ = c.nc.FlushTimeout(5 * time.Second)
	deadline := time.After(5 * time.Second)
	for {
		select {
		case err := <-c.errs:
			if errors.Is(err, nats.ErrPermissionViolation) && strings.Contains(err.Error(), `"`+subject+`"`) {
				return
			}
		case <-deadline:
			t.Fatalf("%s: no permissions violation on %s", c.role.Name(), subject)
		}
	}
}

// publishRefused publishes on subject and checks that the server refused it.
func (c *conn) publishRefused(t *testing.T, subject string) {
	t.Helper()
	c.refused(t, subject, func() {
		if err := c.nc.Publish(subject, []byte(`{"forged":true}`)); err != nil {
			t.Fatal(err)
		}
	})
}

// jsPublish publishes with an acknowledgement, as producers and the fleet do.
func (c *conn) jsPublish(t *testing.T, subject, id string) error {
	t.Helper()
	m := nats.NewMsg(subject)
	m.Data = []byte(`{}`)
	m.Header.Set(jetstream.MsgIDHeader, id)
	_, err := c.js.PublishMsg(ctx(t, 2*time.Second), m)
	return err
}

// TestRolesOnTheEmbeddedServer: each role can do its job on the embedded server, and is
// refused everything outside its subjects; an unauthenticated connection is refused.
func TestRolesOnTheEmbeddedServer(t *testing.T) {
	t.Parallel()
	creds := t.TempDir()
	users, err := natsauth.EnsureSeeds(creds, "herald", natsauth.EmbeddedRoles([]string{"webhook", "slack"}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := embedded.StartWith(embedded.Options{DataDir: t.TempDir(), Addr: "127.0.0.1:0", Users: users},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	url := s.ClientURL()
	if nc, err := nats.Connect(url); !errors.Is(err, nats.ErrAuthorization) {
		if nc != nil {
			nc.Close()
		}
		t.Fatalf("connect without credentials: %v, want an authorization violation", err)
	}
	checkRoles(t, url, creds)
}

// checkRoles runs every role against a server that knows the users whose seeds are in creds
// (producer, dispatcher, admin, worker-webhook, worker-slack), under the prefix herald.
func checkRoles(t *testing.T, url, creds string) {
	producer := connectAs(t, url, creds, natsauth.Role{Kind: natsauth.Producer})
	dispatcher := connectAs(t, url, creds, natsauth.Role{Kind: natsauth.Dispatcher})
	admin := connectAs(t, url, creds, natsauth.Role{Kind: natsauth.Admin})
	webhook := connectAs(t, url, creds, natsauth.WorkerOf("webhook"))
	slack := connectAs(t, url, creds, natsauth.WorkerOf("slack"))
	topo := broker.Topology{}

	// The dispatcher makes the streams, its bucket and consumer; workers find the streams
	// and make their own consumers and buckets.
	if err := topo.Apply(ctx(t, 30*time.Second), dispatcher.js); err != nil {
		t.Fatalf("dispatcher applies the streams: %v", err)
	}
	for _, b := range []jetstream.KeyValueConfig{dispatch.IdempotencyBucketConfig("herald", time.Hour, 1),
		delivery.AttemptsBucketConfig("herald", 1), delivery.StatesBucketConfig("herald", 1)} {
		if _, err := broker.EnsureKeyValue(ctx(t, 30*time.Second), dispatcher.js, b); err != nil {
			t.Fatalf("dispatcher makes the bucket %s: %v", b.Bucket, err)
		}
	}
	dcfg, err := topo.Consumer(broker.StreamEvents, broker.ConsumerDispatcher, "")
	if err != nil {
		t.Fatal(err)
	}
	events, err := dispatcher.js.CreateOrUpdateConsumer(ctx(t, 10*time.Second), broker.StreamEvents, dcfg)
	if err != nil {
		t.Fatalf("dispatcher's consumer: %v", err)
	}
	workers := map[string]jetstream.Consumer{}
	for _, w := range []*conn{webhook, slack} {
		ch := w.role.Channels[0]
		if err := topo.Apply(ctx(t, 30*time.Second), w.js); err != nil {
			t.Fatalf("%s looks the streams up: %v", w.role.Name(), err)
		}
		// A worker binds to the bucket the dispatcher made, without trying to change it
		// (which it may not: that would wait out a request the server drops).
		start := time.Now()
		attempts, err := broker.EnsureKeyValue(ctx(t, 30*time.Second), w.js, delivery.AttemptsBucketConfig("herald", 1))
		if err != nil {
			t.Fatalf("%s's attempts bucket: %v", w.role.Name(), err)
		}
		if took := time.Since(start); took > 2500*time.Millisecond {
			t.Errorf("%s took %s to bind to the attempts bucket: it tried to update it", w.role.Name(), took)
		}
		circuits, err := w.js.KeyValue(ctx(t, 5*time.Second), "herald_circuits")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := circuits.Put(ctx(t, 5*time.Second), ch+".ZGVzdA.w1", []byte("open")); err != nil {
			t.Errorf("%s publishes a circuit state: %v", w.role.Name(), err)
		}
		kv := delivery.NewKVAttempts(attempts)
		if err := kv.Record(ctx(t, 5*time.Second), "evt:"+ch, 2); err != nil {
			t.Fatalf("%s records an attempt: %v", w.role.Name(), err)
		}
		if n, err := kv.Made(ctx(t, 5*time.Second), "evt:"+ch); err != nil || n != 2 {
			t.Fatalf("%s reads an attempt count: %d, %v", w.role.Name(), n, err)
		}
		if err := kv.Forget(ctx(t, 5*time.Second), "evt:"+ch); err != nil {
			t.Fatalf("%s forgets an attempt count: %v", w.role.Name(), err)
		}
		base, err := topo.Consumer(broker.StreamDeliveries, "channel", ch)
		if err != nil {
			t.Fatal(err)
		}
		cons, err := w.js.CreateOrUpdateConsumer(ctx(t, 10*time.Second), broker.StreamDeliveries, delivery.ConsumerConfig(base, 4, time.Second))
		if err != nil {
			t.Fatalf("%s's consumer: %v", w.role.Name(), err)
		}
		workers[ch] = cons
		// The queue-depth sampler of every process lists DELIVERIES' consumers.
		deliveries, err := w.js.Stream(ctx(t, 5*time.Second), broker.StreamDeliveries)
		if err != nil {
			t.Fatal(err)
		}
		for range deliveries.ListConsumers(ctx(t, 5*time.Second)).Info() {
		}
	}

	// The producer publishes events, with an acknowledgement, through the SDK.
	pub, err := sdk.NewPublisher(producer.nc)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sdk.NewPaymentFailed("acme", sdk.PaymentFailed{TenantID: "acme", Reason: "card declined", Amount: 49.99})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(ctx(t, 5*time.Second), ev); err != nil {
		t.Fatalf("producer publishes an event: %v", err)
	}

	t.Run("producer", func(t *testing.T) {
		producer.publishRefused(t, "herald.deliver.webhook.acme")
		producer.refused(t, "herald.deliver.webhook.acme", func() {
			if err := producer.jsPublish(t, "herald.deliver.webhook.acme", "forged-1"); err == nil {
				t.Error("a JetStream publish of a delivery was acknowledged")
			}
		})
		for _, s := range []string{"herald.results.webhook", "herald.dead.webhook.acme", "$KV.herald_attempts.x", "$JS.API.STREAM.INFO.DELIVERIES"} {
			producer.publishRefused(t, s)
		}
		producer.refused(t, "herald.deliver.>", func() {
			if _, err := producer.nc.SubscribeSync("herald.deliver.>"); err != nil {
				t.Fatal(err)
			}
		})
		producer.refused(t, "$JS.API.CONSUMER.MSG.NEXT.DELIVERIES.deliver-webhook", func() {
			_ = producer.nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.DELIVERIES.deliver-webhook", producer.nc.NewRespInbox(), []byte(`{"batch":1}`))
		})
	})

	// The dispatcher reads the event and fans it out to both channels.
	batch, err := events.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for m := range batch.Messages() {
		n++
		if err := m.DoubleAck(ctx(t, 5*time.Second)); err != nil {
			t.Fatalf("dispatcher acks an event: %v", err)
		}
	}
	if n != 1 {
		t.Fatalf("dispatcher read %d events, want 1", n)
	}
	for _, ch := range []string{"webhook", "slack"} {
		if err := dispatcher.jsPublish(t, "herald.deliver."+ch+".acme", ev.ID+":"+ch); err != nil {
			t.Fatalf("dispatcher publishes a %s delivery: %v", ch, err)
		}
	}
	for _, s := range []string{"herald.results.dispatch", "herald.dead.invalid.acme"} {
		if err := dispatcher.jsPublish(t, s, ev.ID+s); err != nil {
			t.Fatalf("dispatcher publishes on %s: %v", s, err)
		}
	}

	t.Run("worker", func(t *testing.T) {
		// Slack's worker cannot read webhook's consumer, nor its deliveries any other way.
		slack.refused(t, "$JS.API.CONSUMER.INFO.DELIVERIES.deliver-webhook", func() {
			if _, err := slack.js.Consumer(ctx(t, time.Second), broker.StreamDeliveries, "deliver-webhook"); err == nil {
				t.Error("slack's worker looked webhook's consumer up")
			}
		})
		slack.refused(t, "$JS.API.CONSUMER.MSG.NEXT.DELIVERIES.deliver-webhook", func() {
			_ = slack.nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.DELIVERIES.deliver-webhook", slack.nc.NewRespInbox(), []byte(`{"batch":1}`))
		})
		filtered := "$JS.API.CONSUMER.CREATE.DELIVERIES.deliver-slack.herald.deliver.webhook.>"
		slack.refused(t, filtered, func() {
			_ = slack.nc.PublishRequest(filtered, slack.nc.NewRespInbox(), []byte(`{}`))
		})
		for _, s := range []string{"herald.deliver.webhook.acme", "herald.deliver.slack.acme", "herald.events.acme.payment.failed",
			"herald.results.webhook", "herald.dead.webhook.acme", "$JS.API.STREAM.MSG.GET.DELIVERIES", "$JS.API.STREAM.UPDATE.DELIVERIES",
			"$KV.herald_dispatched.x", "$JS.ACK.DELIVERIES.deliver-webhook.1.2.3.4.5"} {
			slack.publishRefused(t, s)
		}
		// Nor change any stream, which could source another's messages into one it reads, nor
		// write another channel's circuit states or a tenant destination.
		for _, s := range []string{"$JS.API.STREAM.CREATE.KV_herald_attempts", "$JS.API.STREAM.UPDATE.KV_herald_attempts",
			"$JS.API.STREAM.UPDATE.KV_herald_destinations", "$JS.API.STREAM.CREATE.STOLEN", "$KV.herald_circuits.webhook.ZGVzdA.w1",
			"$KV.herald_destinations.d.acme.hooks", "$JS.API.STREAM.DELETE.EVENTS"} {
			slack.publishRefused(t, s)
		}
		for _, s := range []string{"_INBOX.>", natsauth.Inbox(pubKey(t, creds, webhook.role)) + ".>", "herald.deliver.>"} {
			slack.refused(t, s, func() {
				if _, err := slack.nc.SubscribeSync(s); err != nil {
					t.Fatal(err)
				}
			})
		}

		// Each worker takes its own channel's delivery, records the result, and acks.
		for ch, cons := range workers {
			w := map[string]*conn{"webhook": webhook, "slack": slack}[ch]
			batch, err := cons.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for m := range batch.Messages() {
				got++
				if m.Subject() != "herald.deliver."+ch+".acme" {
					t.Errorf("%s's worker got %s", ch, m.Subject())
				}
				if err := w.jsPublish(t, "herald.results."+ch, m.Subject()+":result"); err != nil {
					t.Errorf("%s's worker publishes a result: %v", ch, err)
				}
				if err := w.jsPublish(t, "herald.dead."+ch+".acme", m.Subject()+":dead"); err != nil {
					t.Errorf("%s's worker publishes a dead letter: %v", ch, err)
				}
				if err := m.DoubleAck(ctx(t, 5*time.Second)); err != nil {
					t.Errorf("%s's worker acks: %v", ch, err)
				}
			}
			if got != 1 {
				t.Errorf("%s's worker got %d deliveries, want 1", ch, got)
			}
		}
	})

	// Nothing forged reached the streams: admin, which may read everything, counts them.
	for stream, want := range map[string]uint64{broker.StreamEvents: 1, broker.StreamDeliveries: 0,
		broker.StreamResults: 3, broker.StreamDead: 3} {
		st, err := admin.js.Stream(ctx(t, 5*time.Second), stream)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.CachedInfo().State.Msgs; got != want {
			t.Errorf("%s holds %d messages, want %d", stream, got, want)
		}
	}
}

func pubKey(t *testing.T, dir string, r natsauth.Role) string {
	t.Helper()
	pub, err := natsauth.PublicKeyOf(natsauth.SeedFile(dir, r))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
