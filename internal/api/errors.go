package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

// The error codes of the API, one per status. They are a public contract: scripts branch on
// them.
const (
	CodeInvalidRequest   = "invalid_request"    // 400: the message names the field at fault
	CodeUnauthorized     = "unauthorized"       // 401: no credential, or an unknown or revoked one
	CodeForbidden        = "forbidden"          // 403: a tenant key on an admin path; a session without its CSRF header
	CodeNotFound         = "not_found"          // 404
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeConflict         = "conflict"           // 409: exists already, or a state that forbids it
	CodeTooLarge         = "too_large"          // 413: a request body over MaxBodyBytes
	CodeRateLimited      = "rate_limited"       // 429: too many failed authentications
	CodeInternal         = "internal"           // 500: the cause is logged, not shown
	CodeUnavailable      = "unavailable"        // 503: a service this process does not run
)

// Error is an answer other than success: a status and the body {"error":{"code","message"}}.
// Handlers return it; anything else they return is a 500.
type Error struct {
	// Status is the HTTP status of the answer.
	Status int `json:"-"`
	// Code is one of the Code constants.
	Code string `json:"code"`
	// Message says what is wrong, for people; it starts with the field at fault for
	// invalid_request.
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// errorBody is the JSON shape of every error answer.
type errorBody struct {
	Error *Error `json:"error"`
}

func invalid(field, message string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Message: field + ": " + message}
}

func notFound(message string) *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: message}
}

var (
	errUnauthorized = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
		Message: "a valid admin token or tenant key is required (Authorization: Bearer <token>)"}
	errSessionEnded = &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized,
		Message: "the session has ended or its cookie is not valid: log in again"}
	errForbidden = &Error{Status: http.StatusForbidden, Code: CodeForbidden,
		Message: "a tenant key may only use /v1/tenants/{its tenant}/, /v1/event-types and /v1/whoami"}
	errInternal = &Error{Status: http.StatusInternalServerError, Code: CodeInternal,
		Message: "internal error; the server's log has the cause"}
)

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // answers carry secrets once (keys, webhook secrets)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers err in the error shape. A service's sentinel or field error maps to its
// status; anything unexpected is logged and answered as a 500 that shows nothing of it,
// because messages of drivers and clients can quote internals.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if e == errInternal {
		a.log.ErrorContext(r.Context(), "api request failed", slog.String("method", r.Method),
			slog.String("pattern", r.Pattern), slog.Any("err", err))
	}
	writeJSON(w, e.Status, errorBody{e})
}

func toError(err error) *Error {
	var (
		e  *Error
		fe *control.FieldError
	)
	switch {
	case errors.As(err, &e):
		return e
	case errors.As(err, &fe):
		return invalid(fe.Field, fe.Message)
	case errors.Is(err, control.ErrNotFound), errors.Is(err, store.ErrNotFound):
		return notFound(firstLine(err))
	case errors.Is(err, control.ErrExists), errors.Is(err, store.ErrExists):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: firstLine(err)}
	case errors.Is(err, control.ErrConflict):
		return &Error{Status: http.StatusConflict, Code: CodeConflict, Message: firstLine(err)}
	}
	return errInternal
}

// firstLine is the message of a service's not-found or conflict error, which names what the
// caller asked for ("destination \"hook\" of tenant \"acme\": not found") and nothing else.
func firstLine(err error) string {
	msg := err.Error()
	for i := range len(msg) {
		if msg[i] == '\n' {
			return msg[:i]
		}
	}
	return msg
}
