package channeltest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// maxFakeBody bounds how much of a request the fake reads; the oversize case sends 2 MiB.
const maxFakeBody = 8 << 20

// fake is the provider stand-in one subtest serves. It applies the harness's Check to every
// request (the provider's documented request contract), counts requests, signals each
// arrival, and leaves the answer to the subtest. The statuses it answers follow the
// Standard Webhooks status handling and RFC 9110 (see StatusCases).
type fake struct {
	srv     *httptest.Server
	arrived chan struct{} // one value per request, dropped if nobody listens

	mu        sync.Mutex
	requests  int
	checkErrs []string
}

// answerFunc writes the fake's answer to one request whose body has been read.
type answerFunc func(w http.ResponseWriter, r *http.Request, body []byte)

func newFake(t testing.TB, h Harness, answer answerFunc) *fake {
	t.Helper()
	f := &fake{arrived: make(chan struct{}, 64)}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFakeBody))
		f.mu.Lock()
		f.requests++
		if err != nil {
			f.checkErrs = append(f.checkErrs, "read request body: "+err.Error())
		} else if h.Check != nil {
			if err := h.Check(r, body); err != nil {
				f.checkErrs = append(f.checkErrs, err.Error())
			}
		}
		f.mu.Unlock()
		select {
		case f.arrived <- struct{}{}:
		default:
		}
		answer(w, r, body)
	}))
	t.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, e := range f.checkErrs {
			t.Errorf("request broke the provider's contract: %s", e)
		}
	})
	return f
}

// count returns how many requests the fake received.
func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

// accept answers status the way the harness says the provider does.
func accept(h Harness, w http.ResponseWriter, r *http.Request, status int) {
	if h.Accept != nil {
		h.Accept(w, r, status)
		return
	}
	w.WriteHeader(status)
}

// echo writes an error body that repeats what the request carried (its path and query, its
// header values) and every harness secret, as a careless or hostile receiver might, so that
// the suite proves none of it reaches a reason. Secrets come first, so that the 200-byte
// quote in a reason cuts through them.
func echo(h Harness, w http.ResponseWriter, r *http.Request, status int) {
	var b bytes.Buffer
	b.WriteString("error: ")
	for _, s := range h.Secrets {
		b.WriteString(s)
		b.WriteString(" ")
	}
	b.WriteString("\n\trequest ")
	b.WriteString(r.URL.RequestURI())
	for _, vs := range r.Header {
		b.WriteString(" ")
		b.WriteString(strings.Join(vs, " "))
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
