package api

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failureLimiter slows down guessing: each client IP may fail authentication a burst of
// times, then once per interval. Successful requests take nothing from it, so a busy,
// correctly configured client is never limited.
type failureLimiter struct {
	every rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*rate.Limiter
	swept   time.Time
}

func newFailureLimiter(every rate.Limit, burst int, now func() time.Time) *failureLimiter {
	return &failureLimiter{every: every, burst: burst, now: now, clients: map[string]*rate.Limiter{}}
}

// check refuses a client that has used up its failures, saying in Retry-After when it may
// try again.
func (l *failureLimiter) check(ip string) error {
	l.mu.Lock()
	lim, ok := l.clients[ip]
	l.mu.Unlock()
	if !ok {
		return nil
	}
	now := l.now()
	if tokens := lim.TokensAt(now); tokens < 1 {
		wait := time.Duration((1 - tokens) / float64(l.every) * float64(time.Second))
		return &rateLimited{retryAfter: max(1, int(math.Ceil(wait.Seconds())))}
	}
	return nil
}

// fail takes one failure from the client's allowance.
func (l *failureLimiter) fail(ip string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	lim, ok := l.clients[ip]
	if !ok {
		if len(l.clients) >= maxFailingClients {
			// Guessing from more addresses than this at once: forget the whole addresses
			// rather than grow without bound.
			l.swept = time.Time{}
			l.sweep(now)
		}
		lim = rate.NewLimiter(l.every, l.burst)
		l.clients[ip] = lim
	}
	lim.AllowN(now, 1)
}

// maxFailingClients bounds the addresses the limiter remembers at once.
const maxFailingClients = 100_000

// sweep forgets, at most once a minute, the clients whose allowance is whole again, so that
// the map stays as small as the set of recent failing clients.
func (l *failureLimiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	for ip, lim := range l.clients {
		if lim.TokensAt(now) >= float64(l.burst) {
			delete(l.clients, ip)
		}
	}
}

// rateLimited is the 429 answer, with its Retry-After.
type rateLimited struct{ retryAfter int }

func (e *rateLimited) Error() string { return "too many failed authentications" }

func (e *rateLimited) write(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	writeJSON(w, http.StatusTooManyRequests, errorBody{&Error{Code: CodeRateLimited,
		Message: "too many failed authentications from this address; retry after " + strconv.Itoa(e.retryAfter) + "s"}})
}

// clientIP is the address the request came from. X-Forwarded-For is not believed: anyone
// can set it, and believing it would let a guesser pick a fresh address for every guess.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
