package spot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AWS reads EC2's instance metadata service with IMDSv2 sessions: a PUT to
// /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds returns a token, and every
// GET carries it in X-aws-ec2-metadata-token; an instance that requires IMDSv2 answers 401
// to a GET without a valid token.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
//
// Two minutes before EC2 stops, hibernates or terminates a spot instance, it publishes
// {"action": "terminate", "time": "2017-09-18T08:22:00Z"} at
// /latest/meta-data/spot/instance-action, which answers 404 until then.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
type AWS struct {
	c   *client
	ttl time.Duration
	now func() time.Time

	mu        sync.Mutex
	token     string
	refreshAt time.Time
}

// The IMDSv2 session contract.
// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-instance-metadata-service.html
const (
	awsTokenPath      = "/latest/api/token"
	awsTokenTTLHeader = "X-aws-ec2-metadata-token-ttl-seconds"
	awsTokenHeader    = "X-aws-ec2-metadata-token"
	// maxTokenTTL is the longest session IMDSv2 grants: 21,600 seconds.
	maxTokenTTL = 6 * time.Hour

	awsInstanceIDPath     = "/latest/meta-data/instance-id"
	awsInstanceActionPath = "/latest/meta-data/spot/instance-action"
)

// Cloud returns "aws".
func (a *AWS) Cloud() string { return CloudAWS }

// InstanceID returns the instance's id, such as i-0123456789abcdef0.
func (a *AWS) InstanceID(ctx context.Context) (string, error) {
	status, body, err := a.get(ctx, awsInstanceIDPath)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", &StatusError{http.MethodGet, awsInstanceIDPath, status}
	}
	id := strings.TrimSpace(string(body))
	if id == "" {
		return "", fmt.Errorf("GET %s: empty instance id", awsInstanceIDPath)
	}
	return id, nil
}

// awsInstanceAction is the document of spot/instance-action.
type awsInstanceAction struct {
	Action string `json:"action"`
	Time   string `json:"time"`
}

// Notices returns the spot interruption notice, if EC2 has issued one.
func (a *AWS) Notices(ctx context.Context) ([]Notice, error) {
	status, body, err := a.get(ctx, awsInstanceActionPath)
	if err != nil {
		return nil, err
	}
	switch status {
	case http.StatusNotFound:
		return nil, nil // no interruption scheduled
	case http.StatusOK:
	default:
		return nil, &StatusError{http.MethodGet, awsInstanceActionPath, status}
	}
	var doc awsInstanceAction
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("GET %s: decode: %w", awsInstanceActionPath, err)
	}
	if doc.Action == "" || doc.Time == "" {
		return nil, fmt.Errorf("GET %s: the document lacks action or time", awsInstanceActionPath)
	}
	at, err := time.Parse(time.RFC3339, doc.Time)
	if err != nil {
		return nil, fmt.Errorf("GET %s: time: %w", awsInstanceActionPath, err)
	}
	return []Notice{{
		// EC2 issues one notice per interruption; its time tells two interruptions of a
		// stopped and restarted instance apart.
		Key:       doc.Action + "@" + at.UTC().Format(time.RFC3339),
		Action:    doc.Action,
		NotBefore: at,
		Reason:    "AWS spot instance interruption: " + doc.Action,
	}}, nil
}

// get sends a GET with the session token, getting a token first when there is none or
// the current one is due for renewal, and once more with a new token if the service
// answers 401 (its tokens do not survive, say, a restart of the service).
func (a *AWS) get(ctx context.Context, path string) (int, []byte, error) {
	for attempt := 0; ; attempt++ {
		token, err := a.sessionToken(ctx, attempt > 0)
		if err != nil {
			return 0, nil, err
		}
		status, _, body, err := a.c.do(ctx, http.MethodGet, path, http.Header{awsTokenHeader: {token}}, "", 0)
		if err != nil {
			return 0, nil, err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			continue
		}
		return status, body, nil
	}
}

// sessionToken returns a valid token, asking for a new one when forced or when three
// quarters of the current one's life have passed, so that it never expires in use.
func (a *AWS) sessionToken(ctx context.Context, force bool) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if !force && a.token != "" && now.Before(a.refreshAt) {
		return a.token, nil
	}
	ttl := strconv.Itoa(int(a.ttl / time.Second))
	status, _, body, err := a.c.do(ctx, http.MethodPut, awsTokenPath, http.Header{awsTokenTTLHeader: {ttl}}, "", 0)
	if err != nil {
		return "", fmt.Errorf("IMDSv2 token: %w", err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("IMDSv2 token: %w", &StatusError{http.MethodPut, awsTokenPath, status})
	}
	token := strings.TrimSpace(string(body))
	if token == "" {
		return "", fmt.Errorf("IMDSv2 token: PUT %s: empty token", awsTokenPath)
	}
	a.token, a.refreshAt = token, now.Add(a.ttl*3/4)
	return token, nil
}

// probeAWS reports whether base answers as IMDS: a token PUT succeeds.
func probeAWS(ctx context.Context, c *client) error {
	status, _, body, err := c.do(ctx, http.MethodPut, awsTokenPath, http.Header{awsTokenTTLHeader: {"60"}}, "", 0)
	if err != nil {
		return err
	}
	if status != http.StatusOK || strings.TrimSpace(string(body)) == "" {
		return fmt.Errorf("PUT %s: HTTP %d: %w", awsTokenPath, status, errNoService)
	}
	return nil
}
