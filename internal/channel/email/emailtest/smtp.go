package emailtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/email"
)

// Mode is how the SMTP server secures its sessions.
type Mode int

// The server's modes.
const (
	// ModeSTARTTLS speaks clear text first and offers STARTTLS (port 587 style). AUTH is
	// offered only once TLS is up. The default.
	ModeSTARTTLS Mode = iota + 1
	// ModeImplicitTLS speaks TLS from the first byte (SMTPS, port 465 style).
	ModeImplicitTLS
	// ModePlain never offers TLS; AUTH, if configured, is offered in clear text (a local
	// relay).
	ModePlain
)

// TLSParam is the tls query parameter of an smtp:// URL that matches the mode.
func (m Mode) TLSParam() string {
	switch m {
	case ModeImplicitTLS:
		return "implicit"
	case ModePlain:
		return "none"
	}
	return "starttls"
}

// Stage is the SMTP command at which the server refuses, when told to.
type Stage string

// The stages a Refusal may apply at.
const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Refusal is a reply the server gives instead of accepting.
type Refusal struct {
	// Stage is the command refused.
	Stage Stage
	// Code is the reply code, 4xx (transient) or 5xx (permanent).
	Code int
	// Message is the reply text.
	Message string
}

// SMTPOption configures NewSMTP.
type SMTPOption func(*SMTP)

// WithMode sets how the server secures sessions. Defaults to ModeSTARTTLS.
func WithMode(m Mode) SMTPOption { return func(s *SMTP) { s.mode = m } }

// WithAuth makes the server offer AUTH PLAIN and require it before MAIL, accepting only user
// and password; anything else gets 535 5.7.8. Without it the server takes mail from anyone.
func WithAuth(user, password string) SMTPOption {
	return func(s *SMTP) { s.user, s.password = user, password }
}

// WithRefusal makes the server refuse every transaction at r.Stage with r's reply. SetRefusal
// changes it later.
func WithRefusal(r Refusal) SMTPOption { return func(s *SMTP) { s.refusal = &r } }

// SMTP is a real SMTP server on a loopback port, for tests. It is safe for concurrent use.
type SMTP struct {
	mode           Mode
	user, password string

	srv      *smtp.Server
	addr     *net.TCPAddr
	pool     *x509.CertPool
	served   chan struct{}
	listener *recordingListener

	mu       sync.Mutex
	refusal  *Refusal
	messages []Message
	auths    int
	changed  chan struct{}
}

// NewSMTP starts a server on 127.0.0.1 with a certificate made for the test; it stops when
// the test ends.
func NewSMTP(t testing.TB, opts ...SMTPOption) *SMTP {
	t.Helper()
	s := &SMTP{mode: ModeSTARTTLS, served: make(chan struct{}), changed: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("emailtest: %v", err)
	}
	s.pool = pool
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}

	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "localhost"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 40 << 20
	srv.MaxRecipients = MaxRecipients
	srv.ErrorLog = log.New(io.Discard, "", 0)
	switch s.mode {
	case ModeSTARTTLS, ModeImplicitTLS:
		srv.TLSConfig = tlsCfg
	case ModePlain:
		srv.AllowInsecureAuth = true
	default:
		t.Fatalf("emailtest: unknown mode %d", s.mode)
	}
	s.srv = srv

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("emailtest: listen: %v", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr)
	s.listener = &recordingListener{Listener: ln}
	var serving net.Listener = s.listener
	if s.mode == ModeImplicitTLS {
		serving = tls.NewListener(s.listener, tlsCfg)
	}
	go func() {
		defer close(s.served)
		_ = srv.Serve(serving)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Close only closes listeners Serve has registered; if the test ended before Serve
		// got that far, Serve would block in Accept forever.
		_ = ln.Close()
		<-s.served
	})
	return s
}

// Addr is the server's host:port.
func (s *SMTP) Addr() string { return s.addr.String() }

// Host is the server's IP address, 127.0.0.1.
func (s *SMTP) Host() string { return s.addr.IP.String() }

// Port is the server's port.
func (s *SMTP) Port() int { return s.addr.Port }

// Mode is the server's mode.
func (s *SMTP) Mode() Mode { return s.mode }

// User and Password are the credentials WithAuth set ("" without).
func (s *SMTP) User() string     { return s.user }
func (s *SMTP) Password() string { return s.password }

// URL is the smtp:// destination URL for this server: its user, if any, its address, and
// the tls parameter of its mode.
func (s *SMTP) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr(), RawQuery: "tls=" + s.mode.TLSParam()}
	if s.user != "" {
		u.User = url.User(s.user)
	}
	return u.String()
}

// Config is an email configuration that delivers to this server from from to to, with its
// credentials if it has any. Pair it with email.WithTLSConfig(s.ClientTLSConfig()).
func (s *SMTP) Config(from string, to ...string) *email.Config {
	host, port, _ := net.SplitHostPort(s.Addr())
	p, _ := strconv.Atoi(port)
	return &email.Config{From: from, To: to, Provider: email.ProviderSMTP, SMTPHost: host, SMTPPort: p,
		SMTPTLS: s.mode.TLSParam(), SMTPUsername: s.user, SMTPPassword: s.password}
}

// Destination is an email destination named id with s.Config(from, to...).
func (s *SMTP) Destination(id, from string, to ...string) channel.Destination {
	return email.Destination(id, s.Config(from, to...))
}

// CertPool holds the server's self-signed certificate.
func (s *SMTP) CertPool() *x509.CertPool { return s.pool }

// ClientTLSConfig is a client configuration that trusts the server's certificate.
func (s *SMTP) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.pool, MinVersion: tls.VersionTLS12}
}

// SetRefusal makes the server refuse at r.Stage from now on; nil makes it accept again.
func (s *SMTP) SetRefusal(r *Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r != nil {
		cp := *r
		r = &cp
	}
	s.refusal = r
}

// Messages returns the messages taken so far, in order.
func (s *SMTP) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// WaitForMessages waits until at least n messages were taken, or ctx ends.
func (s *SMTP) WaitForMessages(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		got, changed := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages(), nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return s.Messages(), fmt.Errorf("smtp server: %d of %d messages: %w", got, n, ctx.Err())
		}
	}
}

// AuthAttempts counts AUTH exchanges that reached the credentials check.
func (s *SMTP) AuthAttempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.auths
}

// ClearText returns every byte clients sent before any TLS handshake, over all connections
// (in ModePlain, everything they sent): what an eavesdropper could read.
func (s *SMTP) ClearText() []byte { return s.listener.clearText() }

// Connections counts the connections accepted.
func (s *SMTP) Connections() int { return s.listener.count() }

func (s *SMTP) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

// session is one SMTP session.
type session struct {
	srv    *SMTP
	conn   *smtp.Conn
	authed string
	from   string
	to     []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if ss.srv.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || ss.srv.user == "" {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		ss.srv.mu.Lock()
		ss.srv.auths++
		ss.srv.mu.Unlock()
		if (identity != "" && identity != user) || user != ss.srv.user || pass != ss.srv.password {
			return smtp.ErrAuthFailed
		}
		ss.authed = user
		return nil
	}), nil
}

// refusal returns the configured refusal for stage, if any.
func (ss *session) refusal(stage Stage) error {
	ss.srv.mu.Lock()
	r := ss.srv.refusal
	ss.srv.mu.Unlock()
	if r == nil || r.Stage != stage {
		return nil
	}
	return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: r.Message}
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.user != "" && ss.authed == "" {
		return smtp.ErrAuthRequired
	}
	if err := ss.refusal(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.refusal(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.refusal(StageData); err != nil {
		return err
	}
	m, err := parseMessage(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "message does not parse: " + err.Error()}
	}
	m.From, m.To, m.User = ss.from, append([]string(nil), ss.to...), ss.authed
	_, m.TLS = ss.conn.TLSConnectionState()
	s := ss.srv
	s.mu.Lock()
	s.messages = append(s.messages, m)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }

func (ss *session) Logout() error { return nil }

// recordingListener records what clients send before any TLS handshake.
type recordingListener struct {
	net.Listener
	mu    sync.Mutex
	clear bytes.Buffer
	conns int
}

func (l *recordingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.conns++
	l.mu.Unlock()
	return &recordingConn{Conn: c, l: l}, nil
}

func (l *recordingListener) clearText() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.clear.Bytes())
}

func (l *recordingListener) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.conns
}

// recordingConn copies what it reads to its listener's record until the first TLS record
// (a handshake record starts with byte 0x16): after that the stream is ciphertext.
type recordingConn struct {
	net.Conn
	l   *recordingListener
	tls bool
}

func (c *recordingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.tls {
		if p[0] == 0x16 {
			c.tls = true
		} else {
			c.l.mu.Lock()
			c.l.clear.Write(p[:n])
			c.l.mu.Unlock()
		}
	}
	return n, err
}
