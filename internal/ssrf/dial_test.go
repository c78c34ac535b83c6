package ssrf

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// server is a loopback test server that counts the requests it receives.
type server struct {
	*httptest.Server
	hits atomic.Int64
}

// newServer starts a server listening on ip (a loopback address), answering with handler or
// with 200 "ok" if handler is nil.
func newServer(t *testing.T, ip string, handler http.HandlerFunc) *server {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("cannot listen on %s: %v", ip, err)
	}
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if handler != nil {
			handler(w, r)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// mustParseAllow parses an allow list or fails the test.
func mustParseAllow(t *testing.T, value string) Policy {
	t.Helper()
	p, err := ParseAllow(value)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// get fetches url with c and returns the status code, closing every connection afterwards.
func get(t *testing.T, c *http.Client, url string) (int, error) {
	t.Helper()
	t.Cleanup(c.CloseIdleConnections)
	resp, err := c.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// requireBlocked fails the test unless err wraps a *BlockedError for want.
func requireBlocked(t *testing.T, err error, want string) *BlockedError {
	t.Helper()
	var blocked *BlockedError
	if !errors.As(err, &blocked) {
		t.Fatalf("error = %v, want a *BlockedError", err)
	}
	if blocked.Addr != netip.MustParseAddr(want) {
		t.Fatalf("refused %s, want %s (%v)", blocked.Addr, want, err)
	}
	return blocked
}

func TestClientRefusesLoopback(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "127.0.0.1", nil)

	_, err := get(t, Policy{}.Client(srv.Client()), srv.URL)
	blocked := requireBlocked(t, err, "127.0.0.1")
	if blocked.Reason != ReasonLoopback {
		t.Errorf("reason = %q, want loopback", blocked.Reason)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("the refused server received %d requests", n)
	}

	status, err := get(t, mustParseAllow(t, "127.0.0.0/8").Client(srv.Client()), srv.URL)
	if err != nil || status != http.StatusOK {
		t.Fatalf("with 127.0.0.0/8 allowed: status %d, error %v; want 200", status, err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("the allowed server received %d requests, want 1", n)
	}
}

// TestClientChecksResolvedName shows that a name is judged by the address it resolves to:
// "localhost" resolves to 127.0.0.1 (or ::1) through /etc/hosts.
func TestClientChecksResolvedName(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "127.0.0.1", nil)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = net.JoinHostPort("localhost", u.Port())

	_, err = get(t, Policy{}.Client(nil), u.String())
	var blocked *BlockedError
	if !errors.As(err, &blocked) || blocked.Reason != ReasonLoopback {
		t.Fatalf("GET %s: %v, want a loopback *BlockedError", u, err)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("the refused server received %d requests", n)
	}
}

func TestRedirectToRefusedAddressIsRefused(t *testing.T) {
	t.Parallel()
	for _, targetIP := range []string{"127.0.0.2", "::1"} {
		t.Run(targetIP, func(t *testing.T) {
			t.Parallel()
			target := newServer(t, targetIP, nil)
			origin := newServer(t, "127.0.0.1", func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+"/internal", http.StatusFound)
			})

			// Only the origin is allowed: the redirect's new connection is refused.
			_, err := get(t, mustParseAllow(t, "127.0.0.1/32").Client(nil), origin.URL)
			requireBlocked(t, err, targetIP)
			if origin.hits.Load() != 1 || target.hits.Load() != 0 {
				t.Fatalf("origin hits %d, target hits %d; want 1 and 0", origin.hits.Load(), target.hits.Load())
			}

			// With the target allowed too, the same redirect is followed: the refusal above
			// came from the guard, not from the target being unreachable.
			status, err := get(t, mustParseAllow(t, "127.0.0.1/32,"+targetIP).Client(nil), origin.URL)
			if err != nil || status != http.StatusOK || target.hits.Load() != 1 {
				t.Fatalf("with both allowed: status %d, error %v, target hits %d; want 200 and 1", status, err, target.hits.Load())
			}
		})
	}
}

// TestDNSRebindingIsRefusedAtDialTime shows a name that resolves to an allowed address once
// and to a refused one the next time (DNS rebinding): each connection is checked against the
// address it actually dials.
func TestDNSRebindingIsRefusedAtDialTime(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "127.0.0.1", nil)
	newServer(t, "127.0.0.2", nil) // so that a dial to 127.0.0.2 would succeed without the guard
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	dns := &fakeDNS{answers: [][]string{{"127.0.0.1"}, {"127.0.0.2"}}}
	dialer := mustParseAllow(t, "127.0.0.1/32").Dialer()
	dialer.Resolver = &net.Resolver{PreferGo: true, Dial: dns.dial}
	// Transport is Policy.Transport with the dialer given the fake resolver, and no connection
	// reuse so that each request resolves and dials afresh.
	transport := Policy{}.Transport(nil)
	transport.DialContext = dialer.DialContext
	transport.DisableKeepAlives = true
	client := &http.Client{Transport: transport}
	u := "http://rebind.test:" + port + "/"

	status, err := get(t, client, u)
	if err != nil || status != http.StatusOK {
		t.Fatalf("first request (resolves to 127.0.0.1): status %d, error %v; want 200", status, err)
	}
	_, err = get(t, client, u)
	requireBlocked(t, err, "127.0.0.2")
	if n := srv.hits.Load(); n != 1 {
		t.Fatalf("server hits = %d, want 1", n)
	}
}

// TestEveryResolvedAddressIsChecked shows that Control runs for each record the dialer tries:
// with two refused records both are checked and the dial fails; with a refused record before
// an allowed one, only the allowed one is connected.
func TestEveryResolvedAddressIsChecked(t *testing.T) {
	t.Parallel()
	srv := newServer(t, "127.0.0.1", nil)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	policy := mustParseAllow(t, "127.0.0.1/32")
	tests := []struct {
		records []string
		wantErr bool
	}{
		{records: []string{"127.0.0.2", "127.0.0.3"}, wantErr: true},
		{records: []string{"127.0.0.2", "127.0.0.1"}, wantErr: false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.records), func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var checked []string
			dialer := policy.Dialer()
			dialer.Resolver = &net.Resolver{PreferGo: true, Dial: (&fakeDNS{answers: [][]string{tt.records}}).dial}
			dialer.Control = func(network, address string, c syscall.RawConn) error {
				mu.Lock()
				checked = append(checked, address)
				mu.Unlock()
				return policy.Control(network, address, c)
			}
			conn, err := dialer.DialContext(context.Background(), "tcp", "multi.test:"+port)
			if err == nil {
				conn.Close()
			}
			mu.Lock()
			defer mu.Unlock()
			if len(checked) != len(tt.records) {
				t.Fatalf("checked %v, want each of %v", checked, tt.records)
			}
			if tt.wantErr {
				requireBlocked(t, err, tt.records[0])
			} else if err != nil {
				t.Fatalf("dial: %v, want a connection to the allowed record", err)
			}
		})
	}
}

func TestControlRefusesWhatItCannotCheck(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ network, address string }{
		{"unix", "/run/docker.sock"},
		{"tcp", "not-an-address"},
		{"tcp", "127.0.0.1"}, // no port
	} {
		var blocked *BlockedError
		if err := (Policy{}).Control(tt.network, tt.address, nil); !errors.As(err, &blocked) || blocked.Reason != ReasonNotIP {
			t.Errorf("Control(%q, %q) = %v, want a not-ip *BlockedError", tt.network, tt.address, err)
		}
	}
	if err := (Policy{}).Control("tcp6", "[2606:2800::1]:443", nil); err != nil {
		t.Errorf("Control of a public address: %v", err)
	}
}

func TestTransportDropsProxyAndCustomDialers(t *testing.T) {
	t.Parallel()
	base := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("custom TLS dialer used")
		},
		MaxIdleConnsPerHost: 7,
	}
	got := Policy{}.Transport(base)
	if got == base {
		t.Fatal("Transport returned base itself, want a clone")
	}
	if got.Proxy != nil || got.DialTLSContext != nil || got.DialContext == nil {
		t.Fatalf("Proxy set %v, DialTLSContext set %v, DialContext set %v; want false, false, true",
			got.Proxy != nil, got.DialTLSContext != nil, got.DialContext != nil)
	}
	if got.MaxIdleConnsPerHost != 7 {
		t.Errorf("MaxIdleConnsPerHost = %d, want base's 7", got.MaxIdleConnsPerHost)
	}
	if base.Proxy == nil || base.DialTLSContext == nil {
		t.Error("Transport modified base")
	}
}

func TestClientPanicsOnUnknownTransport(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("Client accepted a RoundTripper it cannot guard")
		}
	}()
	Policy{}.Client(&http.Client{Transport: roundTripperFunc(nil)})
}

// roundTripperFunc is a RoundTripper that is not an *http.Transport.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// fakeDNS answers A queries for any name, over an in-memory connection so that no test reaches
// a real DNS server. The i-th A query gets answers[i] (the last entry once they run out), which
// is how a rebinding name behaves; AAAA queries get no records.
type fakeDNS struct {
	mu       sync.Mutex
	answers  [][]string
	aQueries int
}

// dial is net.Resolver.Dial: it serves DNS over TCP framing (a net.Pipe is not a PacketConn,
// so the resolver prefixes each message with its length).
func (f *fakeDNS) dial(context.Context, string, string) (net.Conn, error) {
	client, srv := net.Pipe()
	go f.serve(srv)
	return client, nil
}

// serve answers queries on conn until the resolver closes it.
func (f *fakeDNS) serve(conn net.Conn) {
	defer conn.Close()
	for {
		var n uint16
		if err := binary.Read(conn, binary.BigEndian, &n); err != nil {
			return
		}
		query := make([]byte, n)
		if _, err := io.ReadFull(conn, query); err != nil {
			return
		}
		resp := f.answer(query)
		if resp == nil {
			return
		}
		out := binary.BigEndian.AppendUint16(nil, uint16(len(resp)))
		if _, err := conn.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

// answer builds the response to one query, or nil if the query cannot be parsed.
func (f *fakeDNS) answer(query []byte) []byte {
	const headerLen = 12
	if len(query) < headerLen {
		return nil
	}
	end := headerLen
	for end < len(query) && query[end] != 0 { // the question's name, label by label
		end += 1 + int(query[end])
	}
	end += 1 + 4 // the root label, then type and class
	if end > len(query) {
		return nil
	}
	qtype := binary.BigEndian.Uint16(query[end-4:])

	var records []string
	if qtype == 1 { // A
		f.mu.Lock()
		records = f.answers[min(f.aQueries, len(f.answers)-1)]
		f.aQueries++
		f.mu.Unlock()
	}
	resp := append([]byte{}, query[0:2]...) // ID
	resp = append(resp, 0x81, 0x80)         // response, recursion desired and available, no error
	resp = append(resp, 0, 1)               // one question
	resp = binary.BigEndian.AppendUint16(resp, uint16(len(records)))
	resp = append(resp, 0, 0, 0, 0) // no authority or additional records
	resp = append(resp, query[headerLen:end]...)
	for _, r := range records {
		ip := netip.MustParseAddr(r).As4()
		resp = append(resp, 0xc0, headerLen)  // the name: a pointer to the question's
		resp = append(resp, 0, 1, 0, 1)       // type A, class IN
		resp = append(resp, 0, 0, 0, 0, 0, 4) // TTL 0, four bytes of data
		resp = append(resp, ip[:]...)
	}
	return resp
}
