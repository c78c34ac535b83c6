package telegramtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
)

// maxBody bounds how much of a request body the server reads.
const maxBody = 16 << 20

// Telegram's flood limits per chat.
// https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
const (
	// DefaultEvery and DefaultBurst limit a private chat: about one message a second, with
	// short bursts.
	DefaultEvery = time.Second
	DefaultBurst = 3
	// DefaultGroupEvery and DefaultGroupBurst limit a group or channel: 20 messages a minute.
	DefaultGroupEvery = 3 * time.Second
	DefaultGroupBurst = 3
)

// ChatKind is a chat's type. https://core.telegram.org/bots/api#chat
type ChatKind string

// The kinds of chats.
const (
	Private    ChatKind = "private"
	Group      ChatKind = "group"
	Supergroup ChatKind = "supergroup"
	Channel    ChatKind = "channel"
)

// Message is one message the server accepted.
type Message struct {
	// Bot is the token of the bot that sent it.
	Bot string
	// Chat is the chat id it went to, as registered (a number, or an @username).
	Chat string
	// Body is the request body as received.
	Body []byte
	// Payload is the decoded body, with the parsed text and entities.
	Payload *Payload
	// Time is when the server accepted it.
	Time time.Time
}

// Rejection is one request the server refused, whatever the reason.
type Rejection struct {
	// Chat is the chat the request named, if it got that far.
	Chat string
	// Code and Description are what the server answered.
	Code        int
	Description string
	// Body is the request body as received.
	Body []byte
	// Time is when the server answered.
	Time time.Time
}

// Failure is an answer to inject with Inject.
type Failure struct {
	// Code is the HTTP status and error_code.
	Code int
	// Description is the error's description; empty sends Raw instead.
	Description string
	// RetryAfter and MigrateToChatID fill the body's parameters when set.
	RetryAfter      int
	MigrateToChatID int64
	// Raw is a raw body (an HTML page from a proxy, say), used when Description is empty.
	Raw string
}

// Option configures a Server.
type Option func(*Server)

// WithRateLimit sets every chat's rate limit: one message per every on average, burst back to
// back. every <= 0 disables the limit. Defaults to DefaultEvery and DefaultBurst for private
// chats, DefaultGroupEvery and DefaultGroupBurst for the others.
func WithRateLimit(every time.Duration, burst int) Option {
	return func(s *Server) {
		s.every, s.burst = every, max(burst, 1)
		s.groupEvery, s.groupBurst = s.every, s.burst
	}
}

// WithoutRateLimit disables the rate limit.
func WithoutRateLimit() Option { return WithRateLimit(0, 1) }

// WithClock sets the clock the rate limit runs on. Defaults to time.Now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a loopback fake of the Bot API. All its methods are safe for concurrent use,
// including while requests arrive.
type Server struct {
	// URL is the server's base URL, standing in for https://api.telegram.org: the value of
	// NOTIFICATIONS_TELEGRAM_API_URL.
	URL string

	srv               *httptest.Server
	every, groupEvery time.Duration
	burst, groupBurst int
	now               func() time.Time
	private, group    *fakeprovider.Limiter // by chat id: private chats, and the others
	log               *fakeprovider.Log[Message, Rejection]
	inject            fakeprovider.Queue[Failure]

	mu     sync.Mutex      // held while a request is answered, so that each sees the bots and chats as one
	bots   map[string]bool // token -> revoked
	chats  map[string]*chat
	nextID int64
}

// chat is one registered chat.
type chat struct {
	id         string
	kind       ChatKind
	blocked    bool
	migratedTo int64
}

// limiter returns the rate limit of chats of kind.
func (s *Server) limiter(kind ChatKind) *fakeprovider.Limiter {
	if kind == Private {
		return s.private
	}
	return s.group
}

// NewServer starts a fake Bot API that is closed when the test ends. It knows no bots and no
// chats until NewBot and NewChat register them.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		every: DefaultEvery, burst: DefaultBurst,
		groupEvery: DefaultGroupEvery, groupBurst: DefaultGroupBurst,
		now:    time.Now,
		log:    fakeprovider.NewLog[Message, Rejection]("telegramtest", "messages"),
		bots:   make(map[string]bool),
		chats:  make(map[string]*chat),
		nextID: 1_000_000,
	}
	for _, o := range opts {
		o(s)
	}
	s.private = fakeprovider.NewLimiter(s.every, s.burst)
	s.group = fakeprovider.NewLimiter(s.groupEvery, s.groupBurst)
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down, waiting for requests in flight. It is called when the test
// ends.
func (s *Server) Close() { s.srv.Close() }

// NewBot registers a bot and returns its token, shaped as @BotFather's: "<bot id>:<35
// characters>". https://core.telegram.org/bots/api#authorizing-your-bot
func (s *Server) NewBot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	token := strconv.FormatInt(s.nextID, 10) + ":AA" + fakeprovider.Random(fakeprovider.URLSafe, 33)
	s.bots[token] = false
	return token
}

// RevokeBot makes the token answer 401 Unauthorized, as after /revoke in @BotFather.
func (s *Server) RevokeBot(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.bots[token]; ok {
		s.bots[token] = true
	}
}

// NewChat registers a chat of the given kind and returns its id as Telegram writes it: a
// positive number for a private chat, a negative one for a group, -100… for a supergroup or a
// channel.
func (s *Server) NewChat(kind ChatKind) string {
	s.mu.Lock()
	s.nextID++
	n := s.nextID
	s.mu.Unlock()
	id := strconv.FormatInt(n, 10)
	switch kind {
	case Group:
		id = "-" + id
	case Supergroup, Channel:
		id = "-100" + id
	}
	s.AddChat(id, kind)
	return id
}

// AddChat registers a chat under id: a number, or a public channel's @username.
func (s *Server) AddChat(id string, kind ChatKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chats[id] = &chat{id: id, kind: kind}
	s.limiter(kind).Add(id, s.now())
}

// BlockBot makes the chat refuse every bot with 403, as when a user blocks the bot or a
// channel removes it.
func (s *Server) BlockBot(chatID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		c.blocked = true
	}
}

// MigrateChat upgrades a group to a supergroup: the old id answers 400 with
// migrate_to_chat_id, and the returned new id takes messages.
// https://core.telegram.org/bots/api#responseparameters
func (s *Server) MigrateChat(chatID string) string {
	id := s.NewChat(Supergroup)
	n, _ := strconv.ParseInt(id, 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		c.migratedTo = n
	}
	return id
}

// Inject queues one failure: the next request with a valid token is answered with it, before
// any check of the body; calls queue up.
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
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	chatID := ""
	reject := func(e *APIError) {
		s.log.Reject(Rejection{Chat: chatID, Code: e.Code, Description: e.Description, Body: body, Time: now})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(e.Code)
		_, _ = w.Write(e.Body())
	}
	if err != nil {
		reject(badRequest("telegramtest: read body: %v", err))
		return
	}

	// Requests go to /bot<token>/<method>; method names are case-insensitive. An unknown
	// token is 401, an unknown method or a path without a token 404.
	// https://core.telegram.org/bots/api#making-requests
	token, method, ok := splitPath(r.URL.Path)
	revoked, known := s.bots[token]
	switch {
	case !ok:
		reject(&APIError{Code: http.StatusNotFound, Description: "Not Found"})
		return
	case !known || revoked:
		reject(&APIError{Code: http.StatusUnauthorized, Description: "Unauthorized"})
		return
	case !strings.EqualFold(method, "sendMessage"):
		reject(&APIError{Code: http.StatusNotFound, Description: "Not Found: method not found"})
		return
	}
	if f, ok := s.inject.Pop(); ok {
		s.injected(w, f, body, now)
		return
	}
	if err := CheckRequest(r, body); err != nil {
		reject(err.(*APIError))
		return
	}
	p, _ := ValidatePayload(body)
	chatID = p.ChatID
	c := s.chats[p.ChatID]
	switch {
	case c == nil:
		reject(badRequest("chat not found"))
		return
	case c.migratedTo != 0:
		e := badRequest("group chat was upgraded to a supergroup chat")
		e.MigrateToChatID = c.migratedTo
		reject(e)
		return
	case c.blocked && c.kind == Private:
		reject(&APIError{Code: http.StatusForbidden, Description: "Forbidden: bot was blocked by the user"})
		return
	case c.blocked:
		reject(&APIError{Code: http.StatusForbidden, Description: "Forbidden: bot is not a member of the " + string(c.kind) + " chat"})
		return
	}
	if wait := s.limiter(c.kind).Take(c.id, now); wait > 0 {
		secs := fakeprovider.RetryAfter(wait)
		reject(&APIError{Code: http.StatusTooManyRequests, Description: "Too Many Requests: retry after " + strconv.Itoa(secs), RetryAfter: secs})
		return
	}
	id := s.log.Accept(Message{Bot: token, Chat: c.id, Body: body, Payload: p, Time: now})
	// A sent message is answered with the Message.
	// https://core.telegram.org/bots/api#message
	chatNum, _ := strconv.ParseInt(c.id, 10, 64)
	result := map[string]any{
		"message_id": id,
		"date":       now.Unix(),
		"chat":       map[string]any{"id": chatNum, "type": c.kind},
		"text":       p.Plain,
	}
	if len(p.Entities) > 0 {
		result["entities"] = p.Entities
	}
	b, _ := json.Marshal(map[string]any{"ok": true, "result": result})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// injected answers an injected failure and records it.
func (s *Server) injected(w http.ResponseWriter, f Failure, body []byte, now time.Time) {
	s.log.Reject(Rejection{Code: f.Code, Description: f.Description, Body: body, Time: now})
	if f.Description == "" {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(f.Code)
		_, _ = io.WriteString(w, f.Raw)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Code)
	_, _ = w.Write((&APIError{Code: f.Code, Description: f.Description, RetryAfter: f.RetryAfter, MigrateToChatID: f.MigrateToChatID}).Body())
}

// splitPath parses /bot<token>/<method>.
func splitPath(p string) (token, method string, ok bool) {
	rest, found := strings.CutPrefix(p, "/bot")
	if !found {
		return "", "", false
	}
	token, method, ok = strings.Cut(rest, "/")
	if !ok || token == "" || method == "" || strings.Contains(method, "/") {
		return "", "", false
	}
	return token, method, true
}

// String describes a rejection for test output.
func (r Rejection) String() string {
	return fmt.Sprintf("%d %s (chat %q)", r.Code, r.Description, r.Chat)
}
