package telegramtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextLength bounds a message's text after entity parsing, in UTF-16 code units.
// https://core.telegram.org/bots/api#sendmessage ("1-4096 characters after entities parsing")
const MaxTextLength = 4096

// APIError is a refusal, worded as the Bot API words it.
// https://core.telegram.org/bots/api#making-requests
type APIError struct {
	// Code is the HTTP status and the body's error_code.
	Code int
	// Description is the body's description ("Bad Request: chat not found").
	Description string
	// RetryAfter and MigrateToChatID fill the body's parameters when set.
	// https://core.telegram.org/bots/api#responseparameters
	RetryAfter      int
	MigrateToChatID int64
}

func (e *APIError) Error() string { return strconv.Itoa(e.Code) + " " + e.Description }

// Body returns the error as the Bot API answers it.
func (e *APIError) Body() []byte {
	body := map[string]any{"ok": false, "error_code": e.Code, "description": e.Description}
	params := map[string]any{}
	if e.RetryAfter > 0 {
		params["retry_after"] = e.RetryAfter
	}
	if e.MigrateToChatID != 0 {
		params["migrate_to_chat_id"] = e.MigrateToChatID
	}
	if len(params) > 0 {
		body["parameters"] = params
	}
	b, _ := json.Marshal(body)
	return b
}

func badRequest(format string, args ...any) *APIError {
	return &APIError{Code: http.StatusBadRequest, Description: "Bad Request: " + fmt.Sprintf(format, args...)}
}

// Payload is a decoded sendMessage request.
type Payload struct {
	// ChatID is chat_id as sent: a number's digits or an @username.
	ChatID string
	// Text and ParseMode are as sent.
	Text      string
	ParseMode string
	// PreviewDisabled is link_preview_options.is_disabled (or the older
	// disable_web_page_preview).
	PreviewDisabled bool
	// Plain is the text a reader sees, and Entities its formatting, as Telegram parses Text.
	Plain    string
	Entities []Entity
}

// CheckRequest checks one request to sendMessage, minus its path (see Server for the path): a
// POST of application/json whose body ValidatePayload accepts.
// https://core.telegram.org/bots/api#making-requests
func CheckRequest(r *http.Request, body []byte) error {
	if r.Method != http.MethodPost {
		return badRequest("telegramtest: method %s: Herald posts", r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return badRequest("telegramtest: Content-Type %q: only application/json is emulated", r.Header.Get("Content-Type"))
	}
	_, err := ValidatePayload(body)
	return err
}

// ValidatePayload checks a sendMessage body as the Bot API does and returns it decoded: a JSON
// object with a chat_id (an integer, or a string holding one or an @username) and a text
// that, parsed in its parse_mode, is 1 to MaxTextLength characters long. Only the HTML parse
// mode is emulated. A body Telegram would refuse yields an *APIError.
// https://core.telegram.org/bots/api#sendmessage
func ValidatePayload(body []byte) (*Payload, error) {
	if !utf8.Valid(body) {
		return nil, badRequest("telegramtest: body is not valid UTF-8")
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		return nil, badRequest("telegramtest: body is not a JSON object: %v", err)
	}
	var p Payload
	chat, ok := raw["chat_id"]
	if !ok {
		return nil, badRequest("chat_id is empty")
	}
	var num json.Number
	var str string
	switch {
	case json.Unmarshal(chat, &str) == nil:
		p.ChatID = str
	case json.Unmarshal(chat, &num) == nil:
		if _, err := num.Int64(); err != nil {
			return nil, badRequest("invalid chat_id")
		}
		p.ChatID = num.String()
	default:
		return nil, badRequest("invalid chat_id")
	}
	if p.ChatID == "" {
		return nil, badRequest("chat_id is empty")
	}
	if t, ok := raw["text"]; !ok || json.Unmarshal(t, &p.Text) != nil {
		return nil, badRequest("message text is empty")
	}
	if pm, ok := raw["parse_mode"]; ok && json.Unmarshal(pm, &p.ParseMode) != nil {
		return nil, badRequest("unsupported parse_mode")
	}
	if lp, ok := raw["link_preview_options"]; ok {
		var o struct {
			IsDisabled bool `json:"is_disabled"`
		}
		if json.Unmarshal(lp, &o) != nil {
			return nil, badRequest("telegramtest: link_preview_options is not a LinkPreviewOptions object")
		}
		p.PreviewDisabled = o.IsDisabled
	}
	if dp, ok := raw["disable_web_page_preview"]; ok {
		_ = json.Unmarshal(dp, &p.PreviewDisabled)
	}
	switch p.ParseMode {
	case "":
		p.Plain = p.Text
	case "HTML":
		plain, ents, err := ParseHTML(p.Text)
		if err != nil {
			return nil, &APIError{Code: http.StatusBadRequest, Description: err.Error()}
		}
		p.Plain, p.Entities = plain, ents
	case "MarkdownV2", "Markdown":
		return nil, badRequest("telegramtest: parse_mode %s is not emulated", p.ParseMode)
	default:
		return nil, badRequest("unsupported parse_mode")
	}
	if strings.TrimFunc(p.Plain, unicode.IsSpace) == "" {
		return nil, badRequest("message text is empty")
	}
	if Length(p.Plain) > MaxTextLength {
		return nil, badRequest("message is too long")
	}
	return &p, nil
}
