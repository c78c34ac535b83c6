package all

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/ssrf"
)

// Guarded builds the registry that sends to tenants' destinations: the built-in channels as
// Default builds them, over an HTTP client (channel.NewHTTPClient(timeout)) whose every
// connection, redirects included, dials through policy, so that a tenant's URL never reaches
// loopback, private, link-local, CGNAT or metadata addresses unless the operator allows them
// (NOTIFICATIONS_SSRF_ALLOW). A refused dial is reported to the context of the send if it was
// made by NoteBlocked.
func Guarded(policy ssrf.Policy, timeout time.Duration, templates *render.Set, log *slog.Logger) (*channel.Registry, error) {
	client := channel.NewHTTPClient(timeout)
	t := policy.Transport(client.Transport.(*http.Transport))
	dial := t.DialContext
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		var blocked *ssrf.BlockedError
		if err != nil && errors.As(err, &blocked) {
			if n, ok := ctx.Value(blockedKey{}).(*blockedNote); ok {
				n.set(blocked)
			}
		}
		return c, err
	}
	client.Transport = t
	return Default(client, templates, log)
}

type blockedKey struct{}

type blockedNote struct {
	mu  sync.Mutex
	err *ssrf.BlockedError
}

func (n *blockedNote) set(err *ssrf.BlockedError) {
	n.mu.Lock()
	n.err = err
	n.mu.Unlock()
}

// NoteBlocked returns a context for a send through a Guarded registry, and a function that
// reports the address the guard refused during that send, if any. Channels turn a failed dial
// into a transient outcome; the caller uses this to make a refusal a permanent one.
func NoteBlocked(ctx context.Context) (context.Context, func() *ssrf.BlockedError) {
	n := &blockedNote{}
	return context.WithValue(ctx, blockedKey{}, n), func() *ssrf.BlockedError {
		n.mu.Lock()
		defer n.mu.Unlock()
		return n.err
	}
}
