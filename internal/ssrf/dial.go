package ssrf

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

const (
	// dialTimeout bounds one connection attempt, as http.DefaultTransport's dialer does.
	dialTimeout = 30 * time.Second
	// keepAlive is the TCP keep-alive period, as http.DefaultTransport's dialer uses.
	keepAlive = 30 * time.Second
)

// Control checks the address being connected, with the signature of net.Dialer.Control. The
// dialer calls it after DNS resolution and before each connection attempt, so every A and AAAA
// record it tries is checked; a refused record makes that attempt fail with a *BlockedError
// and the dialer goes on to the next one. Anything that is not an IP address and port, such as
// a Unix socket path, is refused because it cannot be checked.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	default:
		return &BlockedError{Reason: ReasonNotIP, Target: network + " " + address}
	}
	addrPort, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Reason: ReasonNotIP, Target: address}
	}
	return p.Check(addrPort.Addr())
}

// Dialer returns a net.Dialer that checks every address it connects to with Control. It is
// what Transport dials through, for callers that open connections themselves.
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive, Control: p.Control}
}

// Transport returns a clone of base (http.DefaultTransport if nil) that dials every connection
// through Dialer, keeping base's TLS, pooling and timeout settings. Proxy is set to nil: with a
// proxy the guard would check the proxy's address, and the proxy would reach the tenant's URL
// unchecked. Any custom dial function of base (DialContext, DialTLSContext and their deprecated
// forms) is dropped for the same reason; TLS connections are made over the guarded dialer.
func (p Policy) Transport(base *http.Transport) *http.Transport {
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	t.Proxy = nil
	t.OnProxyConnectResponse = nil
	t.GetProxyConnectHeader = nil
	t.DialContext = p.Dialer().DialContext
	// The deprecated dial hooks would bypass the guard too.
	t.Dial = nil
	t.DialTLSContext = nil
	t.DialTLS = nil
	return t
}

// Client returns a shallow copy of base (a zero http.Client if nil) whose transport is
// Transport of base's transport. Redirects stay under the guard because every connection the
// client opens, for the first request or for a redirect, dials through it; base's
// CheckRedirect, Jar and Timeout are kept.
//
// Client panics if base.Transport is set but is not an *http.Transport: a RoundTripper of
// unknown kind cannot be made to dial through the guard, and silently replacing it would drop
// whatever it did. Wrap the result's Transport instead.
func (p Policy) Client(base *http.Client) *http.Client {
	var c http.Client
	if base != nil {
		c = *base
	}
	var bt *http.Transport
	switch rt := c.Transport.(type) {
	case nil:
	case *http.Transport:
		bt = rt
	default:
		panic(fmt.Sprintf("ssrf: cannot guard an http.Client whose Transport is a %T; wrap the guarded transport instead", rt))
	}
	c.Transport = p.Transport(bt)
	return &c
}
