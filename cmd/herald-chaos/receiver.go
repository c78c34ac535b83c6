package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// behaviour decides the answer to one verified request of a destination; attempt counts the
// requests of its webhook-id, from 1. Zero holds the request until the sender gives up.
type behaviour func(attempt int) int

// answer always answers status.
func answer(status int) behaviour { return func(int) int { return status } }

// hang never answers: the sender's own timeout ends the request.
func hang() behaviour { return answer(0) }

// receiver is the loopback endpoint of every webhook destination of a scenario, at
// /hooks/<destination>. It verifies each request's Standard Webhooks signature, answers as
// the destination's behaviour says, and records every verified request with the webhook-id,
// the event id read from the body, its answer and when it came.
type receiver struct {
	srv      *http.Server
	url      string
	verifier *sdk.Verifier
	behave   map[string]behaviour

	mu       sync.Mutex
	arrivals []arrival
	attempts map[string]int  // requests per webhook-id
	ok       map[string]bool // webhook-ids answered 2xx
	changed  chan struct{}   // closed and replaced on every arrival

	badSignatures atomic.Int64
	unknown       atomic.Int64 // requests to a destination without a behaviour
}

// newReceiver starts a receiver verifying with secret, its destinations behaving as behave
// says; a destination missing from behave answers 404.
func newReceiver(secret string, behave map[string]behaviour) (*receiver, error) {
	v, err := sdk.NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + l.Addr().String(), verifier: v, behave: behave,
		attempts: map[string]int{}, ok: map[string]bool{}, changed: make(chan struct{})}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

// destURL is where the fleet sends a destination's webhooks.
func (r *receiver) destURL(dest string) string { return r.url + "/hooks/" + dest }

// ServeHTTP verifies, answers and records one request.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	if err := r.verifier.Verify(req.Header, body); err != nil {
		r.badSignatures.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	dest := strings.TrimPrefix(req.URL.Path, "/hooks/")
	b, ok := r.behave[dest]
	if !ok {
		r.unknown.Add(1)
		http.NotFound(w, req)
		return
	}
	id := req.Header.Get(sdk.HeaderWebhookID)
	var ev struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &ev)

	r.mu.Lock()
	r.attempts[id]++
	attempt := r.attempts[id]
	r.mu.Unlock()
	status := b(attempt)
	if status == 0 {
		<-req.Context().Done() // the sender gave up
	}
	r.record(arrival{WebhookID: id, Dest: dest, EventID: ev.ID, Status: status, At: time.Now()})
	if status != 0 {
		w.WriteHeader(status)
	}
}

func (r *receiver) record(a arrival) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.arrivals = append(r.arrivals, a)
	if a.ok() {
		r.ok[a.WebhookID] = true
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// snapshot returns the arrivals so far.
func (r *receiver) snapshot() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]arrival(nil), r.arrivals...)
}

// requests returns how many verified requests carried the webhook-id.
func (r *receiver) requests(webhookID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts[webhookID]
}

// waitDelivered waits until every one of the webhook-ids has been answered 2xx, and returns
// those that were not when ctx ended or timeout passed. It wakes on arrivals, at most every
// 20 ms, and looks only at the ids still missing.
func (r *receiver) waitDelivered(ctx context.Context, timeout time.Duration, want []string) (missing []string) {
	missing = slices.Clone(want)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		missing = slices.DeleteFunc(missing, func(id string) bool { return r.ok[id] })
		changed := r.changed
		r.mu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return missing
		case <-ctx.Done():
			return missing
		}
		select { // let arrivals gather
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// close stops the server, cutting requests it holds.
func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = r.srv.Close()
	}
	_ = r.srv.Close()
}
