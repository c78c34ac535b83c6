// Package spottest holds fake metadata services of AWS, GCP and Azure for the spot
// monitor's tests. Each enforces what its provider documents about the requests it accepts
// (AWS: an IMDSv2 session token on every GET, 401 without one; GCP: Metadata-Flavor:
// Google, 403 without it; Azure: Metadata: true and an api-version, 400 without them), and
// counts the polls of its notice document, so that tests can wait on polls instead of
// sleeping.
package spottest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Fake is what the three fakes share: a loopback server, its notice polls and the
// requests it refused.
type Fake struct {
	// URL is the server's base URL, for spot.Options.BaseURL.
	URL string

	mu       sync.Mutex
	polls    int
	refused  []string
	requests int
}

func (f *Fake) start(t testing.TB, h http.HandlerFunc) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
}

// Polls returns how many times the notice document has been read successfully.
func (f *Fake) Polls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.polls
}

// Refused returns a line per request the fake refused for breaking the provider's
// contract, such as "GET /latest/meta-data/instance-id: 401 no token".
func (f *Fake) Refused() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.refused...)
}

func (f *Fake) poll() {
	f.mu.Lock()
	f.polls++
	f.mu.Unlock()
}

func (f *Fake) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	f.mu.Lock()
	f.refused = append(f.refused, fmt.Sprintf("%s %s: %d %s", r.Method, r.URL.Path, status, why))
	f.mu.Unlock()
	http.Error(w, why, status)
}

// ---- AWS ----------------------------------------------------------------------------------

// AWS is a fake EC2 instance metadata service that requires IMDSv2.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
type AWS struct {
	Fake
	InstanceID string

	mu      sync.Mutex
	tokens  map[string]time.Time // token -> expiry
	issued  int
	expired int // GETs that came with an expired token
	action  string
	at      time.Time
}

// NewAWS starts a fake IMDS for instance id.
func NewAWS(t testing.TB, id string) *AWS {
	a := &AWS{InstanceID: id, tokens: map[string]time.Time{}}
	a.start(t, a.serve)
	return a
}

// SetNotice publishes an instance-action document (action terminate, stop or hibernate,
// at time at); an empty action withdraws it (the document answers 404 again).
func (a *AWS) SetNotice(action string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.action, a.at = action, at
}

// TokensIssued returns how many session tokens the fake has issued.
func (a *AWS) TokensIssued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issued
}

// ExpiredTokenUses returns how many GETs came with a token past its TTL.
func (a *AWS) ExpiredTokenUses() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.expired
}

// ForgetTokens invalidates every token issued so far, as a restart of the service would.
func (a *AWS) ForgetTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens = map[string]time.Time{}
}

func (a *AWS) serve(w http.ResponseWriter, r *http.Request) {
	// IMDSv2 refuses requests that went through a proxy.
	if r.Header.Get("X-Forwarded-For") != "" {
		a.refuse(w, r, http.StatusForbidden, "X-Forwarded-For")
		return
	}
	if r.URL.Path == "/latest/api/token" {
		if r.Method != http.MethodPut {
			a.refuse(w, r, http.StatusMethodNotAllowed, "token needs PUT")
			return
		}
		ttl, err := strconv.Atoi(r.Header.Get("X-aws-ec2-metadata-token-ttl-seconds"))
		if err != nil || ttl < 1 || ttl > 21600 {
			a.refuse(w, r, http.StatusBadRequest, "missing or invalid X-aws-ec2-metadata-token-ttl-seconds")
			return
		}
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		token := hex.EncodeToString(b)
		a.mu.Lock()
		a.tokens[token] = time.Now().Add(time.Duration(ttl) * time.Second)
		a.issued++
		a.mu.Unlock()
		w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", strconv.Itoa(ttl))
		fmt.Fprint(w, token)
		return
	}
	if r.Method != http.MethodGet {
		a.refuse(w, r, http.StatusMethodNotAllowed, "metadata needs GET")
		return
	}
	token := r.Header.Get("X-aws-ec2-metadata-token")
	a.mu.Lock()
	expiry, known := a.tokens[token]
	expired := known && time.Now().After(expiry)
	if expired {
		a.expired++
	}
	action, at := a.action, a.at
	a.mu.Unlock()
	switch {
	case token == "":
		a.refuse(w, r, http.StatusUnauthorized, "no token")
		return
	case !known || expired:
		a.refuse(w, r, http.StatusUnauthorized, "unknown or expired token")
		return
	}
	switch r.URL.Path {
	case "/latest/meta-data/instance-id":
		fmt.Fprint(w, a.InstanceID)
	case "/latest/meta-data/spot/instance-action":
		a.poll()
		if action == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_ = json.NewEncoder(w).Encode(map[string]string{"action": action, "time": at.UTC().Format("2006-01-02T15:04:05Z")})
	default:
		http.NotFound(w, r)
	}
}

// ---- GCP ----------------------------------------------------------------------------------

// GCP is a fake Compute Engine metadata server.
// https://cloud.google.com/compute/docs/metadata/querying-metadata
type GCP struct {
	Fake
	InstanceID string

	mu        sync.Mutex
	preempted bool
}

// NewGCP starts a fake metadata server for instance id.
func NewGCP(t testing.TB, id string) *GCP {
	g := &GCP{InstanceID: id}
	g.start(t, g.serve)
	return g
}

// SetPreempted sets instance/preempted.
func (g *GCP) SetPreempted(v bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.preempted = v
}

func (g *GCP) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Forwarded-For") != "" {
		g.refuse(w, r, http.StatusForbidden, "X-Forwarded-For")
		return
	}
	if r.Header.Get("Metadata-Flavor") != "Google" {
		g.refuse(w, r, http.StatusForbidden, "missing Metadata-Flavor: Google")
		return
	}
	w.Header().Set("Metadata-Flavor", "Google")
	switch r.URL.Path {
	case "/computeMetadata/v1/instance/id":
		fmt.Fprint(w, g.InstanceID)
	case "/computeMetadata/v1/instance/preempted":
		g.poll()
		g.mu.Lock()
		v := g.preempted
		g.mu.Unlock()
		if v {
			fmt.Fprint(w, "TRUE")
		} else {
			fmt.Fprint(w, "FALSE")
		}
	default:
		http.NotFound(w, r)
	}
}

// ---- Azure --------------------------------------------------------------------------------

// Azure is a fake Azure Instance Metadata Service with Scheduled Events.
// https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events
type Azure struct {
	Fake
	VMID, Name string

	mu          sync.Mutex
	incarnation int
	events      []AzureEvent
	approved    []string
}

// AzureEvent is one scheduled event as the service lists it.
type AzureEvent struct {
	EventID           string   `json:"EventId"`
	EventType         string   `json:"EventType"`
	ResourceType      string   `json:"ResourceType"`
	Resources         []string `json:"Resources"`
	EventStatus       string   `json:"EventStatus"`
	NotBefore         string   `json:"NotBefore"`
	Description       string   `json:"Description"`
	EventSource       string   `json:"EventSource"`
	DurationInSeconds int      `json:"DurationInSeconds"`
}

// NewAzure starts a fake IMDS for the VM with the given vmId and name.
func NewAzure(t testing.TB, vmID, name string) *Azure {
	a := &Azure{VMID: vmID, Name: name, incarnation: 1}
	a.start(t, a.serve)
	return a
}

// AddEvent schedules an event, as Azure does when it decides to evict or delete a VM;
// notBefore is written as the service writes it (RFC 1123, GMT).
func (a *Azure) AddEvent(id, eventType string, resources []string, notBefore time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.incarnation++
	a.events = append(a.events, AzureEvent{
		EventID: id, EventType: eventType, ResourceType: "VirtualMachine", Resources: resources,
		EventStatus: "Scheduled", NotBefore: notBefore.UTC().Format(http.TimeFormat),
		Description: "Virtual machine is being preempted.", EventSource: "Platform", DurationInSeconds: -1,
	})
}

// Approved returns the EventIds approved with StartRequests.
func (a *Azure) Approved() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.approved...)
}

func (a *Azure) serve(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Forwarded-For") != "" {
		a.refuse(w, r, http.StatusBadRequest, "X-Forwarded-For")
		return
	}
	if r.Header.Get("Metadata") != "true" {
		a.refuse(w, r, http.StatusBadRequest, "Bad request. Required metadata header not specified")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		a.refuse(w, r, http.StatusBadRequest, "Bad request. api-version was not specified in the request")
		return
	}
	switch {
	case r.URL.Path == "/metadata/instance/compute/vmId" && r.URL.Query().Get("format") == "text":
		fmt.Fprint(w, a.VMID)
	case r.URL.Path == "/metadata/instance/compute/name" && r.URL.Query().Get("format") == "text":
		fmt.Fprint(w, a.Name)
	case r.URL.Path == "/metadata/scheduledevents" && r.Method == http.MethodGet:
		a.poll()
		a.mu.Lock()
		doc := map[string]any{"DocumentIncarnation": a.incarnation, "Events": append([]AzureEvent{}, a.events...)}
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	case r.URL.Path == "/metadata/scheduledevents" && r.Method == http.MethodPost:
		var req struct {
			StartRequests []struct {
				EventID string `json:"EventId"`
			} `json:"StartRequests"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.StartRequests) == 0 {
			a.refuse(w, r, http.StatusBadRequest, "StartRequests body expected")
			return
		}
		a.mu.Lock()
		for _, s := range req.StartRequests {
			a.approved = append(a.approved, s.EventID)
			for i := range a.events {
				if a.events[i].EventID == s.EventID {
					a.events[i].EventStatus, a.events[i].NotBefore = "Started", ""
				}
			}
		}
		a.incarnation++
		a.mu.Unlock()
	default:
		http.NotFound(w, r)
	}
}
