package channel

import (
	"net"
	"net/http"
	"time"
)

const (
	// DefaultTimeout bounds one HTTP send when NewHTTPClient is given none. Standard Webhooks
	// recommends giving receivers 15 to 30 seconds.
	// https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md#request-timeouts
	DefaultTimeout = 15 * time.Second

	// maxIdleConnsPerHost keeps enough warm connections for a busy destination: a worker runs
	// tens of sends at once, often to the same host (discord.com, hooks.slack.com). Go's
	// default of 2 would close and reopen connections on every burst.
	maxIdleConnsPerHost = 64
	// maxIdleConns bounds idle connections over all hosts.
	maxIdleConns = 512
)

// NewHTTPClient returns the client that HTTP channels share: a whole send, body included, is
// bounded by timeout (DefaultTimeout if zero or less); idle connections are kept per host for
// busy destinations; proxies come from the environment (HTTPS_PROXY, so that sends can go
// through an SSRF-filtering proxy); and redirects are never followed, so that Classify turns
// them into Permanent outcomes asking for the destination URL to be updated.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConns = maxIdleConns
	t.MaxIdleConnsPerHost = maxIdleConnsPerHost
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = timeout
	t.ExpectContinueTimeout = time.Second
	t.ForceAttemptHTTP2 = true
	return &http.Client{Transport: t, Timeout: timeout, CheckRedirect: noRedirect}
}

// NoRedirects returns a shallow copy of c (sharing its transport and connection pool) that
// never follows redirects, or a new NewHTTPClient(DefaultTimeout) if c is nil. Channel
// constructors apply it to the client they are given.
func NoRedirects(c *http.Client) *http.Client {
	if c == nil {
		return NewHTTPClient(DefaultTimeout)
	}
	cp := *c
	cp.CheckRedirect = noRedirect
	return &cp
}

// noRedirect makes http.Client return a 3xx response as it is, unread, with a nil error.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
