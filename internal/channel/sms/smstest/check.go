package smstest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf16"
)

const (
	// APIVersion is the version segment of every Messages API path.
	// https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
	APIVersion = "2010-04-01"
	// MaxBodyChars is the longest Body Twilio accepts, in characters. It is counted here in
	// UTF-16 code units (an emoji counts two), the strictest reading of "characters".
	// https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
	// https://www.twilio.com/docs/api/errors/21617
	MaxBodyChars = 1600
	// FormContentType is how the Messages API takes its parameters.
	// https://www.twilio.com/docs/usage/requests-to-twilio
	FormContentType = "application/x-www-form-urlencoded"
)

// Twilio error codes the fake answers with, each documented at
// https://www.twilio.com/docs/api/errors/<code>.
const (
	CodeAuthenticate      = 20003 // 401: wrong or missing AccountSid and AuthToken
	CodeMethodNotAllowed  = 20004 // 405
	CodeNotFound          = 20404 // 404: no such resource (an unknown account path)
	CodeTooManyRequests   = 20429 // 429: too many concurrent requests
	CodeInternal          = 20500 // 500
	CodeUnavailable       = 20503 // 503
	CodeBodyRequired      = 21602 // 400: Message body is required
	CodeFromRequired      = 21603 // 400: A 'From' phone number is required
	CodeToRequired        = 21604 // 400: A 'To' phone number is required
	CodeInvalidFrom       = 21606 // 400: the From number is not one of the account's
	CodeInvalidTo         = 21211 // 400: Invalid 'To' Phone Number
	CodeInvalidFromNumber = 21212 // 400: Invalid 'From' Phone Number
	CodeToEqualsFrom      = 21266 // 400: 'To' and 'From' number cannot be the same
	CodeRegionNotEnabled  = 21408 // 400: Permission to send an SMS has not been enabled for the region
	CodeUnsubscribed      = 21610 // 400: Attempt to send to unsubscribed recipient
	CodeUnreachable       = 21612 // 400: The 'To' phone number is not currently reachable via SMS
	CodeNotMobile         = 21614 // 400: 'To' number is not a valid mobile number
	CodeBodyTooLong       = 21617 // 400: The concatenated message body exceeds the 1600 character limit
)

// Error is an error answer of Twilio's REST API: the HTTP status and the JSON body
// {"code","message","more_info","status"}.
// https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions
type Error struct {
	// Status is the HTTP status, repeated in the body.
	Status int `json:"status"`
	// Code is Twilio's error code.
	Code int `json:"code"`
	// Message is Twilio's explanation.
	Message string `json:"message"`
	// MoreInfo links the code's documentation.
	MoreInfo string `json:"more_info"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("HTTP %d: Twilio error %d: %s", e.Status, e.Code, e.Message)
}

// newError returns Twilio's error for code, with its documentation link.
func newError(status, code int, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...),
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)}
}

// Write answers w with the error as Twilio does: its status and JSON body.
func (e *Error) Write(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}

// e164 is an E.164 number as Twilio wants it: a plus sign, then 8 to 15 digits, the first
// of them not zero.
// https://www.twilio.com/docs/glossary/what-e164
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)

// ValidE164 reports whether s is an E.164 number: "+" then 8 to 15 digits.
func ValidE164(s string) bool { return e164.MatchString(s) }

// accountSID is an Account SID: "AC" and 32 hexadecimal digits.
// https://www.twilio.com/docs/glossary/what-is-a-sid
var accountSID = regexp.MustCompile(`^AC[0-9a-fA-F]{32}$`)

// messagesPath matches /2010-04-01/Accounts/{AccountSid}/Messages.json under any base path.
var messagesPath = regexp.MustCompile(`/` + APIVersion + `/Accounts/([^/]+)/Messages\.json$`)

// BodyChars counts s as MaxBodyChars does: in UTF-16 code units.
func BodyChars(s string) int {
	n := 0
	for _, r := range s {
		// Ranging over a string yields U+FFFD for invalid bytes, never a surrogate, so
		// RuneLen is 1 or 2.
		n += utf16.RuneLen(r)
	}
	return n
}

// Request is one Messages API request, as CheckRequest reads it.
type Request struct {
	// AccountSID is the account of the path; User and Password are the basic credentials.
	AccountSID, User, Password string
	// To, From and Body are the form parameters.
	To, From, Body string
}

// CheckRequest checks one request against the documented contract of creating a message,
// without knowing the accounts: a POST to <base>/2010-04-01/Accounts/{AccountSid}/Messages.json
// with HTTP basic credentials naming that account, form-encoded To, From and Body, To and From
// distinct E.164 numbers, and a Body of 1 to 1,600 characters. Its error is an *Error with
// the status and code Twilio answers.
func CheckRequest(r *http.Request, body []byte) (*Request, error) {
	// https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
	m := messagesPath.FindStringSubmatch(r.URL.Path)
	if m == nil || !accountSID.MatchString(m[1]) {
		return nil, newError(http.StatusNotFound, CodeNotFound, "The requested resource %s was not found", r.URL.Path)
	}
	req := &Request{AccountSID: m[1]}
	// Every request is authenticated with HTTP basic auth, the Account SID as the user name
	// and the Auth Token as the password. https://www.twilio.com/docs/usage/requests-to-twilio
	user, pass, ok := r.BasicAuth()
	if !ok || user == "" || pass == "" {
		return nil, authError()
	}
	req.User, req.Password = user, pass
	if user != req.AccountSID {
		return nil, authError()
	}
	if r.Method != http.MethodPost {
		return nil, newError(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "Method not allowed")
	}
	// Parameters are form-encoded; a body in any other encoding carries no parameters, so
	// Twilio finds no To. https://www.twilio.com/docs/usage/requests-to-twilio
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != FormContentType {
		return nil, newError(http.StatusBadRequest, CodeToRequired, "A 'To' phone number is required.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, newError(http.StatusBadRequest, CodeToRequired, "A 'To' phone number is required.")
	}
	// Twilio does not document a repeated parameter; the fake refuses one, so that a test
	// catches a client that would send one message meaning two.
	for _, name := range []string{"To", "From", "Body"} {
		if len(form[name]) > 1 {
			return nil, newError(http.StatusBadRequest, CodeInvalidTo, "Parameter %s was given %d times.", name, len(form[name]))
		}
	}
	req.To, req.From, req.Body = form.Get("To"), form.Get("From"), form.Get("Body")
	return req, checkMessage(req.To, req.From, req.Body)
}

// authError is Twilio's answer to missing or wrong credentials.
// https://www.twilio.com/docs/api/errors/20003
func authError() *Error {
	return newError(http.StatusUnauthorized, CodeAuthenticate, "Authenticate")
}

// checkMessage applies the parameter rules of creating a message.
// https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
func checkMessage(to, from, body string) error {
	switch {
	case to == "":
		// https://www.twilio.com/docs/api/errors/21604
		return newError(http.StatusBadRequest, CodeToRequired, "A 'To' phone number is required.")
	case !ValidE164(to):
		// https://www.twilio.com/docs/api/errors/21211
		return newError(http.StatusBadRequest, CodeInvalidTo, "The 'To' number %s is not a valid phone number.", to)
	case from == "":
		// https://www.twilio.com/docs/api/errors/21603
		return newError(http.StatusBadRequest, CodeFromRequired, "A 'From' phone number is required.")
	case !ValidE164(from):
		// https://www.twilio.com/docs/api/errors/21212
		return newError(http.StatusBadRequest, CodeInvalidFromNumber, "The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", from)
	case to == from:
		// https://www.twilio.com/docs/api/errors/21266
		return newError(http.StatusBadRequest, CodeToEqualsFrom, "'To' and 'From' number cannot be the same: %s", to)
	case strings.TrimSpace(body) == "":
		// https://www.twilio.com/docs/api/errors/21602
		return newError(http.StatusBadRequest, CodeBodyRequired, "Message body is required.")
	case BodyChars(body) > MaxBodyChars:
		// https://www.twilio.com/docs/api/errors/21617
		return newError(http.StatusBadRequest, CodeBodyTooLong, "The concatenated message body exceeds the 1600 character limit.")
	}
	return nil
}
