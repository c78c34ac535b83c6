package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/sdk"
)

// Publisher publishes one event and waits for the stream's ack; *sdk.Publisher is one.
type Publisher interface {
	Publish(ctx context.Context, e *sdk.Event) (sdk.PubAck, error)
}

// Config configures a Server.
type Config struct {
	// Publisher puts the events on Herald's EVENTS stream. Required.
	Publisher Publisher
	// PaymentsSecret is the signing secret of the payment provider's webhooks. Empty turns
	// POST /webhooks/payments off (it answers 503).
	PaymentsSecret string
	// PaymentsTolerance is how far a signature's timestamp may lie from the clock.
	// Defaults to 5 minutes, as Stripe's libraries do.
	PaymentsTolerance time.Duration
	// LaunchTime is how long a simulated node takes to start. Defaults to 3 s.
	LaunchTime time.Duration
	// Log receives the server's lines. Defaults to discarding them.
	Log *slog.Logger
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

// Server is the control plane: a gateway (signups), billing (the payment provider's
// webhooks) and an orchestrator (node launches), each telling Herald what happened.
type Server struct {
	c Config

	ctx    context.Context // ends with Close: stops launches in progress
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	nodes map[string]*node
}

// NewServer returns a Server; call Close to stop its background launches.
func NewServer(c Config) (*Server, error) {
	if c.Publisher == nil {
		return nil, errors.New("control plane: no publisher")
	}
	if c.PaymentsTolerance <= 0 {
		c.PaymentsTolerance = 5 * time.Minute
	}
	if c.LaunchTime <= 0 {
		c.LaunchTime = 3 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{c: c, ctx: ctx, cancel: cancel, nodes: map[string]*node{}}, nil
}

// Handler routes the control plane's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /signup", s.signup)
	mux.HandleFunc("POST /webhooks/payments", s.paymentWebhook)
	mux.HandleFunc("POST /nodes", s.launchNode)
	mux.HandleFunc("GET /nodes/{id}", s.getNode)
	return mux
}

// Close stops the launches in progress and waits for them.
func (s *Server) Close() {
	s.cancel()
	s.wg.Wait()
}

// signupRequest is the body of POST /signup.
type signupRequest struct {
	TenantID    string `json:"tenant_id"`
	Name        string `json:"name"`
	Email       string `json:"email"`
	BillingPlan string `json:"billing_plan"`
}

// signup creates a tenant (here: announces it) and publishes tenant.created. The event's id
// is derived from the tenant, so a client that retries a signup never notifies twice.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) {
	var req signupRequest
	if !decode(w, r, &req) {
		return
	}
	tenant := req.TenantID
	if tenant == "" {
		tenant = slug(req.Name)
	}
	if !sdk.ValidTenant(tenant) {
		writeError(w, http.StatusBadRequest, "tenant_id: give letters, digits, '-' and '_' (or a name to derive it from)")
		return
	}
	ev, err := sdk.NewTenantCreated(tenant, sdk.TenantCreated{Name: req.Name, Email: req.Email, BillingPlan: req.BillingPlan},
		sdk.WithID("tenant-created-"+tenant), sdk.WithSource("control-plane/gateway"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ack, ok := s.publish(r.Context(), w, ev)
	if !ok {
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"tenant_id": tenant, "event_id": ev.ID, "duplicate": ack.Duplicate})
}

// publish publishes ev for a request, answering 503 when Herald's stream does not take it:
// the caller may retry, and the event's id makes the retry safe.
func (s *Server) publish(ctx context.Context, w http.ResponseWriter, ev *sdk.Event) (sdk.PubAck, bool) {
	ack, err := s.c.Publisher.Publish(ctx, ev)
	if err != nil {
		s.c.Log.Warn("publish failed", "event_id", ev.ID, "type", ev.Type, "err", err)
		writeError(w, http.StatusServiceUnavailable, "the event could not be published now; retry")
		return ack, false
	}
	s.c.Log.Info("published", "event_id", ev.ID, "type", ev.Type, "tenant", ev.TenantID, "duplicate", ack.Duplicate)
	return ack, true
}

// maxBody bounds request bodies: every body here is a small JSON object.
const maxBody = 1 << 20

func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": msg})
}

// slug turns a display name into a tenant id: "Acme Corp." becomes "acme-corp".
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}
