package smstest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
)

// maxBody bounds how much of a request body the server reads.
const maxBody = 1 << 20

// Twilio queues messages beyond a sender's throughput, but refuses an account's requests with
// 429 and error 20429 beyond its concurrency. The fake models that as a token bucket per
// account, so that tests can provoke it.
// https://www.twilio.com/docs/api/errors/20429
// https://support.twilio.com/hc/en-us/articles/115002943027-Understanding-Twilio-Rate-Limits-and-Message-Queues
const (
	// DefaultEvery is the default mean interval between requests of one account.
	DefaultEvery = 100 * time.Millisecond
	// DefaultBurst is the default number of requests one account makes back to back.
	DefaultBurst = 20
)

// Account is a Twilio account the server knows, with the one sender number it owns.
type Account struct {
	// SID is the Account SID, AC and 32 hexadecimal digits.
	SID string
	// AuthToken is the account's password for HTTP basic auth.
	AuthToken string
	// From is the account's SMS-capable number, in E.164.
	From string
}

// Message is one message the server accepted (answered 201 with a queued Message resource).
type Message struct {
	// SID is the message's SID, SM and 32 hexadecimal digits.
	SID string
	// AccountSID is the account it was sent from.
	AccountSID string
	// To, From and Body are the parameters as received.
	To, From, Body string
	// Segments and Encoding are how the body travels (see Segments).
	Segments int
	Encoding Encoding
	// Time is when the server accepted it.
	Time time.Time
}

// Rejection is one request the server refused, whatever the reason.
type Rejection struct {
	// AccountSID is the account of the path, or "" if the path named none.
	AccountSID string
	// To is the request's To parameter, if it had one.
	To string
	// Err is what the server answered.
	Err Error
	// Body is the request body as received.
	Body []byte
	// Time is when the server answered.
	Time time.Time
}

// Failure is an answer to inject with Inject or FailNext, given after authentication and
// before any other check.
type Failure struct {
	// To, if set, makes the failure answer the next request to that number only; requests
	// to other numbers pass it by.
	To string
	// Status is the HTTP status to answer.
	Status int
	// Code and Message make the JSON error body; with Raw set, Raw is the body instead (an
	// HTML page from a proxy, say).
	Code    int
	Message string
	Raw     string
	// RetryAfter is the Retry-After header value, if any.
	RetryAfter string
}

// Option configures a Server.
type Option func(*Server)

// WithRateLimit sets each account's limit: one request per every on average, burst back to
// back. every <= 0 disables it. Defaults to DefaultEvery and DefaultBurst.
func WithRateLimit(every time.Duration, burst int) Option {
	return func(s *Server) { s.every, s.burst = every, max(burst, 1) }
}

// WithoutRateLimit disables the rate limit.
func WithoutRateLimit() Option { return WithRateLimit(0, 1) }

// WithRetryAfter makes the 429s of the rate limit carry a Retry-After header: Twilio does not
// document one, so by default they carry none.
func WithRetryAfter() Option { return func(s *Server) { s.retryAfter = true } }

// WithClock sets the clock the rate limit runs on. Defaults to time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a loopback fake of Twilio's Messages API. All its methods are safe for
// concurrent use, including while requests arrive.
type Server struct {
	// URL is the server's base URL, standing in for https://api.twilio.com.
	URL string

	srv        *httptest.Server
	every      time.Duration
	burst      int
	retryAfter bool
	now        func() time.Time
	limit      *fakeprovider.Limiter // by Account SID
	log        *fakeprovider.Log[Message, Rejection]
	inject     fakeprovider.Queue[Failure]

	mu       sync.Mutex // held while a request is answered, so that each sees the accounts as one
	accounts map[string]*Account
	refused  map[string]int // To number -> error code
}

// NewServer starts a fake Twilio that is closed when the test ends. It knows no accounts
// until NewAccount registers them.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		every:    DefaultEvery,
		burst:    DefaultBurst,
		now:      time.Now,
		log:      fakeprovider.NewLog[Message, Rejection]("smstest", "messages"),
		accounts: make(map[string]*Account),
		refused:  make(map[string]int),
	}
	for _, o := range opts {
		o(s)
	}
	s.limit = fakeprovider.NewLimiter(s.every, s.burst)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down, waiting for requests in flight. It is called when the test
// ends.
func (s *Server) Close() { s.srv.Close() }

// NewAccount registers an account with a random SID, auth token and sender number.
func (s *Server) NewAccount() Account {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := Account{SID: "AC" + randomHex(16), AuthToken: randomHex(16), From: fmt.Sprintf("+1500555%04d", len(s.accounts)%10000)}
	s.accounts[a.SID] = &a
	s.limit.Add(a.SID, s.now())
	return a
}

// Refuse makes every message to the number fail with the Twilio error code, as Twilio answers
// for a number that is invalid (21211), in a region not enabled (21408), unsubscribed (21610),
// unreachable (21612) or not a mobile number (21614).
func (s *Server) Refuse(number string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refused[number] = code
}

// Accept undoes Refuse for the number.
func (s *Server) Accept(number string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.refused, number)
}

// FailNext makes the server answer the next authenticated request with status and Twilio's
// JSON error of code and message; calls queue up, and are answered in order.
func (s *Server) FailNext(status, code int, message string) {
	s.Inject(Failure{Status: status, Code: code, Message: message})
}

// Inject queues one failure, as FailNext does, with full control of the answer.
func (s *Server) Inject(f Failure) { s.inject.Push(f) }

// Messages returns the accepted messages in arrival order.
func (s *Server) Messages() []Message { return s.log.Accepted() }

// Rejected returns the refused requests in arrival order.
func (s *Server) Rejected() []Rejection { return s.log.Rejected() }

// Requests returns how many requests the server has answered.
func (s *Server) Requests() int { return s.log.Requests() }

// WaitForMessages waits until at least n messages have been accepted and returns them,
// failing the test if that has not happened within timeout. It wakes on every answered
// request rather than polling.
func (s *Server) WaitForMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	return s.log.WaitFor(t, n, timeout)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var sid, to string
	reject := func(e *Error, header map[string]string) {
		s.log.Reject(Rejection{AccountSID: sid, To: to, Err: *e, Body: body, Time: now})
		for k, v := range header {
			w.Header().Set(k, v)
		}
		e.Write(w)
	}
	if readErr != nil {
		reject(newError(http.StatusBadRequest, CodeToRequired, "A 'To' phone number is required."), nil)
		return
	}

	// Credentials first: any request with a wrong or missing AccountSid and AuthToken is
	// answered 401 with error 20003. https://www.twilio.com/docs/api/errors/20003
	user, pass, _ := r.BasicAuth()
	acct := s.accounts[user]
	if acct == nil || pass != acct.AuthToken {
		reject(authError(), nil)
		return
	}
	req, err := CheckRequest(r, body)
	if req != nil {
		sid, to = req.AccountSID, req.To
	}
	if e, ok := err.(*Error); ok && (e.Code == CodeNotFound || e.Code == CodeAuthenticate || e.Code == CodeMethodNotAllowed) {
		reject(e, nil)
		return
	}
	// A failure for a number waits for a request to it; one for no number takes the next.
	if f, ok := s.inject.PopFunc(func(f Failure) bool { return f.To == "" || f.To == to }); ok {
		s.answerInjected(w, f, sid, to, body, now)
		return
	}
	if err != nil {
		reject(err.(*Error), nil)
		return
	}
	if req.From != acct.From {
		// https://www.twilio.com/docs/api/errors/21606
		reject(newError(http.StatusBadRequest, CodeInvalidFrom, "The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", req.From), nil)
		return
	}
	if code, ok := s.refused[req.To]; ok {
		reject(refusal(code, req.To), nil)
		return
	}
	if wait := s.limit.Take(acct.SID, now); wait > 0 {
		// https://www.twilio.com/docs/api/errors/20429
		var hdr map[string]string
		if s.retryAfter {
			hdr = map[string]string{"Retry-After": strconv.Itoa(fakeprovider.RetryAfter(wait))}
		}
		reject(newError(http.StatusTooManyRequests, CodeTooManyRequests, "Too Many Requests"), hdr)
		return
	}
	segments, enc := Segments(req.Body)
	m := Message{SID: "SM" + randomHex(16), AccountSID: acct.SID, To: req.To, From: req.From, Body: req.Body,
		Segments: segments, Encoding: enc, Time: now}
	s.log.Accept(m)
	writeMessage(w, http.StatusCreated, m)
}

// answerInjected writes an injected failure and records it.
func (s *Server) answerInjected(w http.ResponseWriter, f Failure, sid, to string, body []byte, now time.Time) {
	e := Error{Status: f.Status, Code: f.Code, Message: f.Message}
	if f.Code != 0 {
		e.MoreInfo = fmt.Sprintf("https://www.twilio.com/docs/errors/%d", f.Code)
	}
	s.log.Reject(Rejection{AccountSID: sid, To: to, Err: e, Body: body, Time: now})
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Raw != "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Raw)
		return
	}
	e.Write(w)
}

// refusal is Twilio's error for a message to a number it refuses, with the documented
// message of each code.
func refusal(code int, to string) *Error {
	switch code {
	case CodeInvalidTo:
		// https://www.twilio.com/docs/api/errors/21211
		return newError(http.StatusBadRequest, code, "The 'To' number %s is not a valid phone number.", to)
	case CodeRegionNotEnabled:
		// https://www.twilio.com/docs/api/errors/21408
		return newError(http.StatusBadRequest, code, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: %s.", to)
	case CodeUnsubscribed:
		// https://www.twilio.com/docs/api/errors/21610
		return newError(http.StatusBadRequest, code, "Attempt to send to unsubscribed recipient")
	case CodeUnreachable:
		// https://www.twilio.com/docs/api/errors/21612
		return newError(http.StatusBadRequest, code, "The 'To' phone number: %s, is not currently reachable using the 'From' phone number via SMS.", to)
	case CodeNotMobile:
		// https://www.twilio.com/docs/api/errors/21614
		return newError(http.StatusBadRequest, code, "'To' number is not a valid mobile number")
	}
	return newError(http.StatusBadRequest, code, "Twilio refused the 'To' number %s.", to)
}

// writeMessage answers a created message as Twilio does: 201 and the Message resource.
// https://www.twilio.com/docs/messaging/api/message-resource#message-properties
func writeMessage(w http.ResponseWriter, status int, m Message) {
	created := m.Time.UTC().Format(time.RFC1123Z)
	res := map[string]any{
		"account_sid":           m.AccountSID,
		"api_version":           APIVersion,
		"body":                  m.Body,
		"date_created":          created,
		"date_sent":             nil,
		"date_updated":          created,
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  m.From,
		"messaging_service_sid": nil,
		"num_media":             "0",
		"num_segments":          strconv.Itoa(m.Segments),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                "queued",
		"to":                    m.To,
		"uri":                   "/" + APIVersion + "/Accounts/" + m.AccountSID + "/Messages/" + m.SID + ".json",
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(res)
}

// WriteCreated answers w as Twilio answers a created message: the given 2xx status and a
// queued Message resource of the account in r's path. It is the Accept of the channel
// conformance suite, which serves requests itself (and has read the body already, so the
// resource's to, from and body are left empty).
func WriteCreated(w http.ResponseWriter, r *http.Request, status int) {
	m := Message{SID: "SM" + randomHex(16), AccountSID: "AC" + randomHex(16), Segments: 1, Time: time.Now()}
	if match := messagesPath.FindStringSubmatch(r.URL.Path); match != nil {
		m.AccountSID = match[1]
	}
	if status == http.StatusNoContent {
		w.WriteHeader(status)
		return
	}
	writeMessage(w, status, m)
}

// randomHex returns n random bytes in hexadecimal: 2n digits.
func randomHex(n int) string { return fakeprovider.Random(fakeprovider.Hex, 2*n) }
