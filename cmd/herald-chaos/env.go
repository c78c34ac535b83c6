package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/childproc"
	"github.com/heraldhq/herald/internal/fleetproc"
	"github.com/heraldhq/herald/internal/natsproc"
	"github.com/heraldhq/herald/internal/pgserver"
	"github.com/heraldhq/herald/sdk"
)

// suite is what every scenario shares: the binaries, the PostgreSQL server, the scale.
type suite struct {
	o       options
	sc      scale
	dir     string
	bin     string // dispatcher and channel-worker
	natsBin string
	pg      *pgserver.Server
	log     *slog.Logger
	dbs     int
}

// env is one scenario's world: its own NATS (one server or a cluster), database, receiver
// and fleet. close releases all of it.
type env struct {
	s       *suite
	name    string
	dir     string
	srv     *natsproc.Server
	cluster *natsproc.Cluster
	natsURL string
	nc      *nats.Conn
	js      jetstream.JetStream
	dbURL   string
	secret  string
	recv    *receiver
	fleet   *fleetproc.Fleet
	closers []func()
}

// newEnv starts a scenario's NATS (nodes 1: one server; more: a cluster) and creates its
// database.
func (s *suite) newEnv(ctx context.Context, name string, nodes int) (_ *env, err error) {
	e := &env{s: s, name: name, dir: filepath.Join(s.dir, name)}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return nil, err
	}
	cfg := natsproc.Config{Binary: s.natsBin, Dir: filepath.Join(e.dir, "nats")}
	if nodes > 1 {
		if e.cluster, err = natsproc.StartCluster(ctx, cfg, nodes); err != nil {
			return nil, err
		}
		e.closers = append(e.closers, e.cluster.Stop)
		e.natsURL = e.cluster.URL()
	} else {
		if e.srv, err = natsproc.StartServer(ctx, cfg); err != nil {
			return nil, err
		}
		e.closers = append(e.closers, e.srv.Stop)
		e.natsURL = e.srv.URL()
	}
	e.nc, err = nats.Connect(e.natsURL, nats.Name("herald-chaos"), nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("connect to nats: %w", err)
	}
	e.closers = append(e.closers, e.nc.Close)
	if e.js, err = jetstream.New(e.nc); err != nil {
		return nil, err
	}
	s.dbs++
	if e.dbURL, err = s.pg.CreateDatabase(ctx, "chaos_"+strconv.Itoa(s.dbs)); err != nil {
		return nil, err
	}
	if e.secret, err = sdk.NewWebhookSecret(); err != nil {
		return nil, err
	}
	return e, nil
}

// close stops what the scenario started, the fleet first.
func (e *env) close() {
	if e.fleet != nil {
		e.fleet.Stop()
	}
	if e.recv != nil {
		e.recv.close()
	}
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
}

// webhookEnv is newEnv for a scenario of webhook destinations only: it also starts the
// receiver (its destinations, named by behave's keys, behaving so) and the fleet of a
// dispatcher and workers webhook workers delivering to them, with the extra variables.
func (s *suite) webhookEnv(ctx context.Context, name string, nodes, workers int, behave map[string]behaviour, extra map[string]string) (_ *env, err error) {
	e, err := s.newEnv(ctx, name, nodes)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if err := e.startReceiver(behave); err != nil {
		return nil, err
	}
	ids := slices.Sorted(maps.Keys(behave))
	vars, err := e.vars(e.webhooks(ids...), extra)
	if err != nil {
		return nil, err
	}
	if err := e.startFleet(ctx, workers, nil, vars); err != nil {
		return nil, err
	}
	return e, nil
}

// startReceiver starts the scenario's webhook receiver, verifying with the scenario's secret.
func (e *env) startReceiver(behave map[string]behaviour) error {
	var err error
	e.recv, err = newReceiver(e.secret, behave)
	return err
}

// destination is one entry of NOTIFICATIONS_DESTINATIONS, in the shape the README documents.
type destination struct {
	ID      string            `json:"id"`
	Channel string            `json:"channel"`
	URL     string            `json:"url,omitempty"`
	Secret  string            `json:"secret,omitempty"`
	Method  string            `json:"method,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// webhooks returns webhook destinations on the receiver, signed with the scenario's secret.
func (e *env) webhooks(ids ...string) []destination {
	out := make([]destination, len(ids))
	for i, id := range ids {
		out[i] = destination{ID: id, Channel: "webhook", URL: e.recv.destURL(id), Secret: e.secret}
	}
	return out
}

// vars are the fleet's variables: the scenario's NATS and database, its destinations, JSON
// logs, and fast sends; extra overrides any.
func (e *env) vars(dests []destination, extra map[string]string) (map[string]string, error) {
	b, err := json.Marshal(dests)
	if err != nil {
		return nil, err
	}
	v := map[string]string{
		"NOTIFICATIONS_NATS_URL":     e.natsURL,
		"NOTIFICATIONS_DATABASE_URL": e.dbURL,
		"NOTIFICATIONS_DATA_DIR":     filepath.Join(e.dir, "data"),
		"NOTIFICATIONS_DESTINATIONS": string(b),
		"NOTIFICATIONS_LOG_FORMAT":   "json",
		"NOTIFICATIONS_LOG_LEVEL":    "info",
		"NOTIFICATIONS_SEND_TIMEOUT": "2s",
	}
	for k, x := range extra {
		v[k] = x
	}
	return v, nil
}

// startFleet starts the dispatcher and workers processes delivering channels (webhook when
// none), each with its own HTTP address.
func (e *env) startFleet(ctx context.Context, workers int, channels []string, vars map[string]string) error {
	var err error
	e.fleet, err = fleetproc.Start(ctx, fleetproc.Config{Bin: e.s.bin, LogDir: e.dir, Env: vars, Channels: channels,
		Workers: workers, JetStream: e.js, OwnHTTPAddr: true})
	return err
}

// settle waits until every counted event has reached every healthy destination, or timeout
// passes, then tallies what arrived and what DEAD holds into r.
func (e *env) settle(ctx context.Context, r *Result, pub *publisher, healthy []string, timeout time.Duration) (expectation, []deadLetter, error) {
	exp := expectation{published: pub.published(), healthy: healthy, start: pub.start()}
	var want []string
	for id := range exp.published {
		for _, d := range healthy {
			want = append(want, broker.DeliveryID(id, d))
		}
	}
	e.recv.waitDelivered(ctx, timeout, want)
	exp.end = time.Now()
	dead, err := e.deadLetters(ctx)
	if err != nil {
		return exp, nil, err
	}
	tally(r, exp, e.recv.snapshot(), dead)
	return exp, dead, nil
}

// commonChecks are every scenario's: no process of the fleet ended on its own, every
// request was signed, and every request went to a destination the scenario knows.
func (e *env) commonChecks(r *Result) {
	gone := e.fleet.Unexpected()
	r.check("no process exited", len(gone) == 0, "%s", strings.Join(gone, "; "))
	bad, unknown := e.recv.badSignatures.Load(), e.recv.unknown.Load()
	r.check("every webhook verified", bad == 0 && unknown == 0, "%d bad signatures, %d requests to unknown destinations", bad, unknown)
}

// deadLetters reads every message of the DEAD stream (none when it does not exist yet).
func (e *env) deadLetters(ctx context.Context) ([]deadLetter, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cons, err := e.js.OrderedConsumer(ctx, broker.StreamDead, jetstream.OrderedConsumerConfig{})
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read DEAD: %w", err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read DEAD: %w", err)
	}
	var out []deadLetter
	for uint64(len(out)) < info.NumPending {
		batch, err := cons.Fetch(int(info.NumPending)-len(out), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("read DEAD: %w", err)
		}
		n := len(out)
		for m := range batch.Messages() {
			out = append(out, deadLetter{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("read DEAD: %w", err)
		}
		if len(out) == n {
			return nil, fmt.Errorf("read DEAD: %d of %d messages", n, info.NumPending)
		}
	}
	return out, nil
}

// ledgerStatuses returns the status of every delivery in the ledger.
func (e *env) ledgerStatuses(ctx context.Context) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT delivery_id, status FROM notification_deliveries`)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			return nil, err
		}
		out[id] = status
	}
	return out, rows.Err()
}

// checkLedger waits until the ledger records every delivery the receiver got as delivered
// (the recorder writes in batches, and may be catching up after an outage), then checks that
// the ledger agrees with the receiver on every delivery to the healthy destinations.
func (e *env) checkLedger(ctx context.Context, r *Result, exp expectation, timeout time.Duration) {
	got := map[string]bool{} // delivery ids the receiver answered 2xx
	for _, a := range e.recv.snapshot() {
		if _, counted := exp.published[a.EventID]; counted && a.ok() && slices.Contains(exp.healthy, a.Dest) {
			got[broker.DeliveryID(a.EventID, a.Dest)] = true
		}
	}
	var rows map[string]string
	var lastErr error
	agrees := func() bool {
		rows, lastErr = e.ledgerStatuses(ctx)
		if lastErr != nil {
			return false
		}
		for id := range got {
			if rows[id] != "delivered" {
				return false
			}
		}
		return true
	}
	_ = childproc.WaitEvery(ctx, timeout, 250*time.Millisecond, "the ledger", agrees)
	if lastErr != nil {
		r.check("ledger agrees with the receiver", false, "ledger unreadable: %v", lastErr)
		return
	}
	missing, byStatus := 0, map[string]int{}
	for id := range got {
		switch s := rows[id]; s {
		case "":
			missing++
		default:
			byStatus[s]++
		}
	}
	// Rows of healthy deliveries the receiver never got 2xx for.
	extra := 0
	for id, s := range rows {
		ev, dest, _ := strings.Cut(id, ":")
		if _, counted := exp.published[ev]; counted && slices.Contains(exp.healthy, dest) && !got[id] {
			extra++
			byStatus[s+" (not received)"]++
		}
	}
	ok := missing == 0 && extra == 0 && byStatus["delivered"] == len(got) && len(byStatus) <= 1
	r.check("ledger agrees with the receiver", ok, "%d deliveries received; ledger rows by status %v; %d missing", len(got), byStatus, missing)
}

// metric sums the samples of a Prometheus counter or gauge named name on every process of
// the fleet.
func (e *env) metric(ctx context.Context, name string) (float64, error) {
	var sum float64
	for _, p := range e.fleet.Names() {
		body, _, err := httpGet(ctx, "http://"+e.fleet.HTTPAddr(p)+"/metrics", nil)
		if err != nil {
			return 0, err
		}
		sum += sumMetric(string(body), name)
	}
	return sum, nil
}

// sumMetric sums the samples of the metric named name in a Prometheus text exposition.
func sumMetric(text, name string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || rest == "" || (rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		f := strings.Fields(rest)
		if v, err := strconv.ParseFloat(f[len(f)-1], 64); err == nil {
			sum += v
		}
	}
	return sum
}

// httpGet fetches a URL with extra headers and returns the body and the response's status
// line and headers as text.
func httpGet(ctx context.Context, url string, header http.Header) ([]byte, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	var head strings.Builder
	head.WriteString(resp.Status + "\n")
	_ = resp.Header.Write(&head)
	return body, head.String(), err
}
