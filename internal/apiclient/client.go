// Package apiclient is a small typed client of Herald's HTTP API (the control surface: tenant
// destinations, history, dead letters, replays, tenant keys, status and tests). heraldctl is
// built on it. Every call answers the typed value and the API's JSON as it came, so that a
// command can print either.
//
// Errors tell apart what a script must: *Error when the API answered an error (its code,
// message and HTTP status), *UnreachableError when no answer came at all.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls one Herald API server. Its zero value is not usable: set BaseURL.
type Client struct {
	// BaseURL is the server's address, such as http://127.0.0.1:8080.
	BaseURL string
	// Token is the admin token or a tenant key, sent as a bearer token. Empty sends none.
	Token string
	// HTTP sends the requests. Defaults to a client with a 30s timeout.
	HTTP *http.Client
	// UserAgent names the caller. Defaults to heraldctl.
	UserAgent string
}

// Error is an error the API answered: {"error":{"code","message"}} with an HTTP status.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return e.Code + ": " + e.Message
}

// IsAuth reports whether the API refused the credentials (401) or their scope (403).
func (e *Error) IsAuth() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// IsNotFound reports whether the API answered 404.
func (e *Error) IsNotFound() bool { return e.Status == http.StatusNotFound }

// UnreachableError is a request that got no answer from the server: refused, timed out,
// or a name that does not resolve.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Response is an answer of the API: its status and its body as it came.
type Response struct {
	Status int
	Body   json.RawMessage
}

// Do sends one request: body, if not nil, as JSON; query, if not nil, as the query string.
// A 2xx answer returns the Response; any other an *Error; no answer an *UnreachableError.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body any) (*Response, error) {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	ua := c.UserAgent
	if ua == "" {
		ua = "heraldctl"
	}
	req.Header.Set("User-Agent", ua)
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{URL: c.BaseURL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, &UnreachableError{URL: c.BaseURL, Err: fmt.Errorf("read answer: %w", err)}
	}
	if resp.StatusCode/100 != 2 {
		return nil, apiError(resp.StatusCode, b)
	}
	return &Response{Status: resp.StatusCode, Body: b}, nil
}

// unwrapURLError drops net/url's "Get "<url>":" prefix: the URL is said once, by
// UnreachableError.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func apiError(status int, body []byte) *Error {
	var eb struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error != nil {
		eb.Error.Status = status
		return eb.Error
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &Error{Status: status, Message: msg}
}

// call sends a request and decodes a 2xx answer into out (if not nil).
func call[T any](ctx context.Context, c *Client, method, path string, query url.Values, body any) (T, *Response, error) {
	var out T
	resp, err := c.Do(ctx, method, path, query, body)
	if err != nil {
		return out, nil, err
	}
	if len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, &out); err != nil {
			return out, resp, fmt.Errorf("decode answer of %s %s: %w", method, path, err)
		}
	}
	return out, resp, nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }
