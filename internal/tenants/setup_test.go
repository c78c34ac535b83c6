package tenants

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/ssrf"
	"github.com/heraldhq/herald/internal/store/postgres"
	"github.com/heraldhq/herald/internal/testutil"
)

func TestMain(m *testing.M) { testutil.MainWithPostgres(m) }

// bundle is a service over real PostgreSQL and NATS, and the table of one process.
type bundle struct {
	svc      *Service
	store    *postgres.Store
	bucket   jetstream.KeyValue
	js       jetstream.JetStream
	table    *Table
	channels *Channels
	keyring  *secretbox.Keyring
	keyValue string // the keyring's key, as NOTIFICATIONS_SECRETS_KEY holds it
}

func newKeyring(t *testing.T, keys ...string) *secretbox.Keyring {
	t.Helper()
	value := ""
	for i, k := range keys {
		if i > 0 {
			value += ","
		}
		value += k
	}
	kr, err := secretbox.ParseKeys(value)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func newKey(t *testing.T) string {
	t.Helper()
	k, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// setup starts NATS and a database and builds the service and a table over them; the
// SSRF guard allows 127.0.0.2, where the tests' good endpoints listen.
func setup(t *testing.T) *bundle {
	t.Helper()
	ctx := t.Context()
	n := testutil.StartNATS(t)
	nc := n.Connect(t)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := (broker.Topology{}).Apply(ctx, js); err != nil {
		t.Fatal(err)
	}
	bucket, err := broker.EnsureKeyValue(ctx, js, BucketConfig("herald", 1))
	if err != nil {
		t.Fatal(err)
	}
	st, err := postgres.New(ctx, testutil.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	b := &bundle{store: st, bucket: bucket, js: js, keyring: newKeyring(t, key), keyValue: key}
	b.channels = testChannels(t)
	b.table = b.newTable(t)
	b.svc = NewService(ServiceDeps{Store: st, Bucket: bucket, Keyring: b.keyring, Channels: b.channels, Local: b.table, SendTimeout: 2 * time.Second, Logger: obs.Discard()})
	return b
}

func testChannels(t *testing.T) *Channels {
	t.Helper()
	op, err := all.Default(nil, nil, obs.Discard())
	if err != nil {
		t.Fatal(err)
	}
	policy, err := ssrf.ParseAllow("127.0.0.2/32")
	if err != nil {
		t.Fatal(err)
	}
	guarded, err := all.Guarded(policy, 2*time.Second, nil, obs.Discard())
	if err != nil {
		t.Fatal(err)
	}
	return &Channels{Operator: op, Guarded: guarded, OperatorConfigs: OperatorConfigsOf(nil)}
}

// newTable starts another process's table on the bucket, synced.
func (b *bundle) newTable(t *testing.T) *Table {
	t.Helper()
	tb := NewTable(b.bucket, b.keyring, b.channels, obs.Discard())
	if err := tb.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tb.Stop)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := tb.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	return tb
}

// endpoint is an HTTP endpoint that records requests and answers status.
type endpoint struct {
	URL    string
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	status int
}

func newEndpoint(t *testing.T, ip string, status int) *endpoint {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("listen on %s (the tests need it on the loopback interface): %v", ip, err)
	}
	e := &endpoint{status: status}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.bodies = append(e.bodies, body)
		e.heads = append(e.heads, r.Header.Clone())
		st := e.status
		e.mu.Unlock()
		w.WriteHeader(st)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	e.URL = srv.URL
	return e
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.bodies)
}

func (e *endpoint) setStatus(s int) {
	e.mu.Lock()
	e.status = s
	e.mu.Unlock()
}

func (e *endpoint) lastHeader() http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.heads[len(e.heads)-1]
}

func (e *endpoint) lastBody() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.bodies[len(e.bodies)-1]
}
