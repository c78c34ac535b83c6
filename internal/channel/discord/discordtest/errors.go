package discordtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Discord's JSON error codes that the fake answers with.
// https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
const (
	// CodeGeneral is "General error (such as a malformed request body, amongst other things)".
	CodeGeneral = 0
	// CodeUnknownWebhook is "Unknown webhook": no webhook with this id, or a wrong token.
	CodeUnknownWebhook = 10015
	// CodeEmptyMessage is "Cannot send an empty message".
	CodeEmptyMessage = 50006
	// CodeInvalidFormBody is "Invalid form body (returned for both application/json and
	// multipart/form-data bodies), or invalid Content-Type provided".
	CodeInvalidFormBody = 50035
	// CodeInvalidJSON is "The request body contains invalid JSON".
	CodeInvalidJSON = 50109
)

// Problem is one complaint about one field, as Discord lists it in the errors object of a
// 50035 answer.
// https://discord.com/developers/docs/reference#error-messages
type Problem struct {
	// Path is the field's dotted path from the body's root: "embeds.0.fields.3.value", or ""
	// for the body as a whole.
	Path string
	// Code is Discord's error code string ("BASE_TYPE_MAX_LENGTH").
	Code string
	// Message is Discord's wording ("Must be 256 or fewer in length.").
	Message string
}

// String returns "path: message (CODE)".
func (p Problem) String() string {
	if p.Path == "" {
		return p.Message + " (" + p.Code + ")"
	}
	return p.Path + ": " + p.Message + " (" + p.Code + ")"
}

// APIError is a refusal, worded as Discord words it: the HTTP status, the JSON error code and
// message, and for 50035 the field problems.
// https://discord.com/developers/docs/reference#error-messages
type APIError struct {
	// Status is the HTTP status (400, 404, 405, ...).
	Status int
	// Code is Discord's JSON error code (CodeInvalidFormBody, CodeUnknownWebhook, ...).
	Code int
	// Message is Discord's message ("Invalid Form Body").
	Message string
	// Problems lists what is wrong, field by field, for a 50035.
	Problems []Problem
}

// Error describes the refusal on one line: "HTTP 400: 50035 Invalid Form Body: embeds.0.title:
// Must be 256 or fewer in length. (BASE_TYPE_MAX_LENGTH)".
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("HTTP " + strconv.Itoa(e.Status) + ": " + strconv.Itoa(e.Code) + " " + e.Message)
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// MarshalJSON encodes the error as Discord's body: {"message","code"} plus, when there are
// problems, the errors object, in which each path leads to {"_errors":[{"code","message"}]}.
func (e *APIError) MarshalJSON() ([]byte, error) {
	type entry struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	body := struct {
		Message string         `json:"message"`
		Code    int            `json:"code"`
		Errors  map[string]any `json:"errors,omitempty"`
	}{Message: e.Message, Code: e.Code}
	if len(e.Problems) > 0 {
		body.Errors = map[string]any{}
		for _, p := range e.Problems {
			node := body.Errors
			if p.Path != "" {
				for _, key := range strings.Split(p.Path, ".") {
					next, ok := node[key].(map[string]any)
					if !ok {
						next = map[string]any{}
						node[key] = next
					}
					node = next
				}
			}
			list, _ := node["_errors"].([]entry)
			node["_errors"] = append(list, entry{Code: p.Code, Message: p.Message})
		}
	}
	return json.Marshal(body)
}

// write answers the request with the error as Discord would.
func (e *APIError) write(w http.ResponseWriter) {
	b, err := json.Marshal(e)
	if err != nil {
		b = []byte(`{"message":"fake: encode error","code":0}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_, _ = w.Write(b)
}

// formError is a 400 50035 carrying the given problems.
func formError(problems []Problem) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidFormBody, Message: "Invalid Form Body", Problems: problems}
}

// unknownWebhook is Discord's answer to an unknown webhook id or a wrong token.
func unknownWebhook() *APIError {
	return &APIError{Status: http.StatusNotFound, Code: CodeUnknownWebhook, Message: "Unknown Webhook"}
}

// notFound is Discord's answer to a path that names no route.
func notFound() *APIError {
	return &APIError{Status: http.StatusNotFound, Code: CodeGeneral, Message: "404: Not Found"}
}

func methodNotAllowed(method string) *APIError {
	return &APIError{Status: http.StatusMethodNotAllowed, Code: CodeGeneral,
		Message: fmt.Sprintf("405: Method Not Allowed (%s; the fake serves Execute Webhook, POST, only)", method)}
}
