package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// arrival is one verified delivery: when it arrived and when its event was published, in
// Unix nanoseconds.
type arrival struct{ at, sent int64 }

// receiver is the loopback webhook endpoint: it verifies every signature, as a real receiver
// must, and stamps each delivery's arrival against the publish time carried in the event's
// "time" attribute.
type receiver struct {
	srv      *http.Server
	url      string
	verifier *sdk.Verifier

	mu       sync.Mutex
	arrivals []arrival

	delivered atomic.Int64
	rejected  atomic.Int64
	inFlight  atomic.Int64
	hold      atomic.Pointer[chan struct{}] // while set, requests wait until it closes
	notify    chan struct{}                 // a delivery arrived
}

func newReceiver(secret string) (*receiver, error) {
	v, err := sdk.NewVerifier(secret)
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + l.Addr().String(), verifier: v, notify: make(chan struct{}, 1)}
	r.srv = &http.Server{Handler: r, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(l) }()
	return r, nil
}

var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

var timeKey = []byte(`"time":"`)

// ServeHTTP verifies and records one delivery.
func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	buf := bufs.Get().(*bytes.Buffer)
	defer bufs.Put(buf)
	buf.Reset()
	if _, err := io.Copy(buf, req.Body); err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	body := buf.Bytes()
	if err := r.verifier.Verify(req.Header, body); err != nil {
		r.rejected.Add(1)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if h := r.hold.Load(); h != nil {
		select {
		case <-*h:
		case <-req.Context().Done():
			return
		}
	}
	now := time.Now().UnixNano()
	var sent int64
	if i := bytes.Index(body, timeKey); i >= 0 {
		rest := body[i+len(timeKey):]
		if j := bytes.IndexByte(rest, '"'); j > 0 {
			if t, err := time.Parse(time.RFC3339Nano, string(rest[:j])); err == nil {
				sent = t.UnixNano()
			}
		}
	}
	r.mu.Lock()
	r.arrivals = append(r.arrivals, arrival{at: now, sent: sent})
	r.mu.Unlock()
	r.delivered.Add(1)
	select {
	case r.notify <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusNoContent)
}

// take returns the arrivals recorded so far and forgets them.
func (r *receiver) take() []arrival {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.arrivals
	r.arrivals = make([]arrival, 0, len(out))
	return out
}

// holdRequests makes verified requests wait until the returned function is called.
func (r *receiver) holdRequests() (release func()) {
	ch := make(chan struct{})
	r.hold.Store(&ch)
	var once sync.Once
	return func() {
		once.Do(func() {
			r.hold.Store(nil)
			close(ch)
		})
	}
}

func (r *receiver) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = r.srv.Close()
	}
}
