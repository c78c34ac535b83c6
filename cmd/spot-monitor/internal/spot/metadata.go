package spot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// The clouds a Source can read.
const (
	CloudAWS   = "aws"
	CloudGCP   = "gcp"
	CloudAzure = "azure"
)

// Clouds lists the clouds in the order Detect reports them.
var Clouds = []string{CloudAWS, CloudGCP, CloudAzure}

// Default metadata endpoints. AWS and Azure answer on the link-local address; Google
// documents metadata.google.internal (which resolves to the same address on GCP).
const (
	DefaultAWSBaseURL   = "http://169.254.169.254"
	DefaultGCPBaseURL   = "http://metadata.google.internal"
	DefaultAzureBaseURL = "http://169.254.169.254"
)

// DefaultRequestTimeout bounds one metadata request. The services answer in milliseconds
// on the instance itself; a slow answer means there is no such service here.
const DefaultRequestTimeout = 2 * time.Second

// maxMetadataBytes bounds what is read of one answer: the documents read here are small.
const maxMetadataBytes = 1 << 20

// bootIDFile names the current boot of a Linux kernel with a random UUID.
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// Notice is one termination notice as a metadata service states it.
type Notice struct {
	// Key identifies the notice among the instance's notices, and only from what the
	// metadata service says (AWS: the action and its time; GCP: the boot; Azure: the
	// EventId), so that a restarted monitor derives the same event id.
	Key string
	// Action is the provider's word for what happens: terminate, stop or hibernate on AWS,
	// preempted on GCP, Preempt or Terminate on Azure.
	Action string
	// NotBefore is when the instance goes, as the provider announced it; zero if unknown
	// or already under way.
	NotBefore time.Time
	// Reason says what happens, for people.
	Reason string
}

// Source reads one cloud's metadata service. Its methods are called from one goroutine.
type Source interface {
	// Cloud returns the cloud's name: aws, gcp or azure.
	Cloud() string
	// InstanceID returns the instance's id as the metadata service gives it.
	InstanceID(ctx context.Context) (string, error)
	// Notices returns the termination notices that stand now for this instance; none when
	// the instance is not being reclaimed.
	Notices(ctx context.Context) ([]Notice, error)
}

// Acknowledger is a Source whose provider can be told that the instance is ready to go,
// so that it proceeds before the announced time (Azure's StartRequests).
type Acknowledger interface {
	// Acknowledge tells the provider to go ahead with n.
	Acknowledge(ctx context.Context, n Notice) error
}

// Options configures a Source.
type Options struct {
	// BaseURL replaces the scheme and host of the cloud's metadata service, such as
	// http://127.0.0.1:8169 for a fake one in tests; the documented paths are appended.
	// Defaults to the cloud's own (DefaultAWSBaseURL, ...).
	BaseURL string
	// Timeout bounds each metadata request. Defaults to DefaultRequestTimeout.
	Timeout time.Duration
	// TokenTTL is how long an AWS IMDSv2 session token lives, in whole seconds from 1 s
	// to 6 h. Defaults to 6 h, the most IMDSv2 allows; the token is renewed after three
	// quarters of it.
	TokenTTL time.Duration
	// BootID names the current boot of the instance, to tell a GCP preemption from one of
	// an earlier boot of the same instance (a stopped spot VM can be started again).
	// Defaults to the kernel's boot_id.
	BootID string
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
}

func (o Options) withDefaults(cloud string) Options {
	if o.BaseURL == "" {
		switch cloud {
		case CloudAWS:
			o.BaseURL = DefaultAWSBaseURL
		case CloudGCP:
			o.BaseURL = DefaultGCPBaseURL
		case CloudAzure:
			o.BaseURL = DefaultAzureBaseURL
		}
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.Timeout <= 0 {
		o.Timeout = DefaultRequestTimeout
	}
	if o.TokenTTL == 0 {
		o.TokenTTL = maxTokenTTL
	}
	if o.BootID == "" {
		if b, err := os.ReadFile(bootIDFile); err == nil {
			o.BootID = strings.TrimSpace(string(b))
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

func (o Options) validate() error {
	u, err := url.Parse(o.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("metadata URL %q is not an http or https URL with a host", o.BaseURL)
	}
	if o.TokenTTL < time.Second || o.TokenTTL > maxTokenTTL || o.TokenTTL%time.Second != 0 {
		return fmt.Errorf("token TTL %s is not whole seconds from 1s to %s", o.TokenTTL, maxTokenTTL)
	}
	return nil
}

// New returns the Source of a cloud: aws, gcp or azure.
func New(cloud string, o Options) (Source, error) {
	o = o.withDefaults(cloud)
	if err := o.validate(); err != nil {
		return nil, err
	}
	c := newClient(o)
	switch cloud {
	case CloudAWS:
		return &AWS{c: c, ttl: o.TokenTTL, now: o.Now}, nil
	case CloudGCP:
		return &GCP{c: c, bootID: o.BootID, now: o.Now}, nil
	case CloudAzure:
		return &Azure{c: c}, nil
	}
	return nil, fmt.Errorf("unknown cloud %q: want aws, gcp or azure", cloud)
}

// client makes metadata requests.
type client struct {
	base    string
	timeout time.Duration
	http    *http.Client
}

func newClient(o Options) *client {
	return &client{base: o.BaseURL, timeout: o.Timeout, http: &http.Client{
		Transport: &http.Transport{
			// Never through a proxy: the services answer only from the instance itself, and
			// AWS's and Google's refuse requests carrying X-Forwarded-For, which proxies add.
			Proxy:               nil,
			MaxIdleConnsPerHost: 2,
		},
		// The services do not redirect; following one would send the headers elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// StatusError is an answer of a metadata service with an unexpected status.
type StatusError struct {
	Method, Path string
	Status       int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: HTTP %d", e.Method, e.Path, e.Status)
}

// do sends one request and returns the answer's status, headers and body (for any status).
// The path may carry a query. The timeout, if positive, replaces the client's.
func (c *client) do(ctx context.Context, method, path string, header http.Header, body string, timeout time.Duration) (int, http.Header, []byte, error) {
	if timeout <= 0 {
		timeout = c.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err // it names the method and URL
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	return resp.StatusCode, resp.Header, b, nil
}

// errNoService says that the address answered, but not as the cloud's metadata service.
var errNoService = errors.New("not this cloud's metadata service")
