package api

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/internal/control"
)

// MaxBodyBytes bounds a request body: the largest legitimate one, a destination with its
// headers and event types, is a few kilobytes.
const MaxBodyBytes = 1 << 20

// The bounds of a list's limit parameter.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// decode reads the request's JSON body into v. Unknown fields are refused, so that a typo
// ("event_type" for "event_types") is an error rather than a silently ignored setting. An
// empty body is allowed only when optional is set, and leaves v as it was.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	body := http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		if optional {
			return nil
		}
		return invalid("body", "a JSON object is required")
	}
	if err == nil {
		// One JSON value, nothing after it: two objects in a row are a client's bug.
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			return invalid("body", "unexpected data after the JSON object")
		}
		return nil
	}
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge,
			Message: fmt.Sprintf("body: larger than %d bytes", MaxBodyBytes)}
	case errors.As(err, &syntax):
		return invalid("body", fmt.Sprintf("invalid JSON at byte %d: %v", syntax.Offset, syntax))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("body", "invalid JSON: the body ends early")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return invalid(field, fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return invalid(strings.Trim(name, `"`), "unknown field")
	}
	// Errors of a field's own UnmarshalJSON (a time that is not RFC 3339, say).
	return invalid("body", err.Error())
}

// jsonKind names a Go kind as the JSON type a client must send.
func jsonKind(kind string) string {
	switch {
	case kind == "string":
		return "a string"
	case kind == "bool":
		return "true or false"
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"), strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice" || kind == "array":
		return "an array"
	case kind == "struct" || kind == "map":
		return "an object"
	}
	return "of another type"
}

// page reads the limit and cursor query parameters.
func page(r *http.Request) (control.Page, error) {
	q := r.URL.Query()
	p := control.Page{Limit: DefaultLimit, Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLimit {
			return p, invalid("limit", fmt.Sprintf("must be a whole number from 1 to %d, not %q", MaxLimit, v))
		}
		p.Limit = n
	}
	return p, nil
}

// pageBody is the shape of every list: data and the cursor of the next page, empty on the
// last.
type pageBody[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}

func newPage[T any](items []T, next string) pageBody[T] {
	if items == nil {
		items = []T{}
	}
	return pageBody[T]{Data: items, NextCursor: next}
}

// pageSlice cuts one page out of a whole, sorted list whose items have unique keys: the
// cursor is the key of the last item shown, so that items added or removed between pages
// neither repeat nor shift the rest.
func pageSlice[T any](items []T, key func(T) string, p control.Page) ([]T, string, error) {
	start := 0
	if p.Cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil {
			return nil, "", invalid("cursor", "not a cursor this API gave")
		}
		for start < len(items) && key(items[start]) <= string(after) {
			start++
		}
	}
	end := min(start+p.Limit, len(items))
	next := ""
	if end < len(items) {
		next = base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
	}
	return items[start:end], next, nil
}

// timeParam reads a time query parameter or body field: RFC 3339, or a Go duration such as
// "2h" or "90m" meaning that long before now.
func timeParam(field, v string, now time.Time) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, invalid(field, fmt.Sprintf("%q is neither an RFC 3339 time nor a duration such as 2h", v))
}
