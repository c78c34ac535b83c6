package ops

import (
	"encoding/base64"
	"encoding/json"
	"path"
	"strings"

	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

// encodeCursor makes the opaque cursor of the page after d.
func encodeCursor(d store.Delivery) string {
	b, _ := json.Marshal(store.Position{CreatedAt: d.CreatedAt, DeliveryID: d.DeliveryID}) // cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor; empty is the first page. A cursor this package did not make
// is a *control.FieldError on "cursor".
func decodeCursor(c string) (*store.Position, error) {
	if c == "" {
		return nil, nil
	}
	bad := &control.FieldError{Field: "cursor", Message: "malformed cursor: pass next_cursor of the previous page as it was"}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var p store.Position
	if err := json.Unmarshal(b, &p); err != nil || p.CreatedAt.IsZero() || p.DeliveryID == "" {
		return nil, bad
	}
	return &p, nil
}

// pageLimit applies the API's bounds: 50 by default, at most 500.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

// typeFilter is an event type pattern split into what SQL filters (an exact type or a
// prefix) and what is left to Go (match, nil when SQL says it all).
type typeFilter struct {
	exact, prefix string
	match         func(string) bool
}

// parseTypePattern reads an event type pattern in the syntax of NOTIFICATIONS_ROUTES
// ("payment.failed", "payment.*", "*", or any path.Match glob). A malformed glob is a
// *control.FieldError on field.
func parseTypePattern(field, pattern string) (typeFilter, error) {
	if pattern == "" {
		return typeFilter{}, nil
	}
	if _, err := path.Match(pattern, ""); err != nil {
		return typeFilter{}, &control.FieldError{Field: field, Message: "malformed event type pattern " + quote(pattern) + ": " + err.Error()}
	}
	i := strings.IndexAny(pattern, `*?[\`)
	switch {
	case i < 0:
		return typeFilter{exact: pattern}, nil
	case i == len(pattern)-1 && pattern[i] == '*':
		// "payment.*", "*": a trailing star spans dots, as routes read it.
		return typeFilter{prefix: pattern[:i]}, nil
	}
	route := config.Route{Pattern: pattern}
	return typeFilter{prefix: pattern[:i], match: route.Matches}, nil
}

// matches reports whether an event type passes the whole pattern.
func (f typeFilter) matches(eventType string) bool {
	switch {
	case f.exact != "":
		return eventType == f.exact
	case f.match != nil:
		return f.match(eventType)
	}
	return strings.HasPrefix(eventType, f.prefix)
}

// quote quotes a caller's value for an error message, cut to a readable length.
func quote(s string) string {
	if len(s) > 100 {
		s = s[:100] + "…"
	}
	b, _ := json.Marshal(s)
	return string(b)
}
