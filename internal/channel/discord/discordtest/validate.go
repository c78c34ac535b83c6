package discordtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of a message sent through a webhook. Lengths are counted in characters (Unicode code
// points), and a string that is empty once Discord strips its surrounding white space counts
// as missing.
const (
	// MaxContent bounds the message content.
	// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
	MaxContent = 2000
	// MaxEmbeds bounds the embeds of one message.
	// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
	MaxEmbeds = 10
	// MaxUsername bounds the username override (at least 1 character).
	// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
	MaxUsername = 80
	// MaxThreadName bounds thread_name.
	// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
	MaxThreadName = 100

	// MaxTitle bounds an embed's title.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxTitle = 256
	// MaxDescription bounds an embed's description.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxDescription = 4096
	// MaxFields bounds an embed's fields.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxFields = 25
	// MaxFieldName bounds a field's name, which is required.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxFieldName = 256
	// MaxFieldValue bounds a field's value, which is required.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxFieldValue = 1024
	// MaxFooterText bounds an embed's footer text.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxFooterText = 2048
	// MaxAuthorName bounds an embed's author name.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxAuthorName = 256
	// MaxEmbedTotal bounds the characters of title, description, field names and values,
	// footer text and author name, summed over every embed of the message.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-limits
	MaxEmbedTotal = 6000

	// maxURL bounds every URL in an embed.
	maxURL = 2048
	// maxColor is the largest RGB colour an embed may have.
	// https://discord.com/developers/docs/resources/message#embed-object-embed-structure
	maxColor = 0xFFFFFF
	// maxMentionIDs bounds allowed_mentions.roles and .users.
	// https://discord.com/developers/docs/resources/message#allowed-mentions-object-allowed-mentions-structure
	maxMentionIDs = 100
	// maxAppliedTags bounds applied_tags.
	// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
	maxAppliedTags = 5
)

// webhookPath matches an execute-webhook path, with or without an API version.
// https://discord.com/developers/docs/resources/webhook#execute-webhook
// https://discord.com/developers/docs/reference#api-versioning
var webhookPath = regexp.MustCompile(`^/api(?:/v[0-9]+)?/webhooks/([0-9]{1,20})/([A-Za-z0-9_-]{1,256})$`)

// snowflake matches an id as Discord's API writes it: a decimal string.
// https://discord.com/developers/docs/reference#snowflakes
var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// ParsePath returns the webhook id and token of an execute-webhook path, and whether the
// path is one.
func ParsePath(path string) (id, token string, ok bool) {
	m := webhookPath.FindStringSubmatch(path)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// CheckRequest checks one request against Execute Webhook's contract without a server: POST
// to a webhook path, a JSON Content-Type, a valid wait query parameter, and a body that
// ValidatePayload accepts. It does not know which webhooks exist, nor rate limits. The error
// is an *APIError, as the Server would answer it.
func CheckRequest(r *http.Request, body []byte) error {
	if e := checkRequest(r, body); e != nil {
		return e
	}
	return nil
}

func checkRequest(r *http.Request, body []byte) *APIError {
	if _, _, ok := ParsePath(r.URL.Path); !ok {
		return notFound()
	}
	if r.Method != http.MethodPost {
		return methodNotAllowed(r.Method)
	}
	if _, err := waitParam(r.URL.Query()); err != nil {
		return err
	}
	// JSON bodies only: the fake does not model multipart uploads, which Herald never sends.
	// https://discord.com/developers/docs/reference#uploading-files
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidFormBody,
			Message: "Invalid Form Body", Problems: []Problem{{Code: "CONTENT_TYPE_INVALID",
				Message: fmt.Sprintf("Expected Content-Type application/json, got %q.", r.Header.Get("Content-Type"))}}}
	}
	return validatePayload(body)
}

// waitParam reads the wait query parameter: "true" waits for the message and returns it,
// absent or "false" answers 204 at once.
// https://discord.com/developers/docs/resources/webhook#execute-webhook-query-string-params
func waitParam(q url.Values) (bool, *APIError) {
	v, present := q["wait"]
	if !present {
		return false, nil
	}
	switch strings.ToLower(v[len(v)-1]) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, formError([]Problem{{Path: "wait", Code: "BOOLEAN_TYPE_COERCE",
		Message: fmt.Sprintf("Value %q is not a valid boolean.", v[len(v)-1])}})
}

// ValidatePayload checks an Execute Webhook JSON body against Discord's documented limits and
// returns an *APIError worded as Discord's answer, or nil. It is stricter than Discord in one
// way: keys that are not documented JSON params (or that the fake does not model: components,
// attachments, poll, payload_json) are refused, so that a misspelt key fails a test instead
// of vanishing.
func ValidatePayload(body []byte) error {
	if e := validatePayload(body); e != nil {
		return e
	}
	return nil
}

func validatePayload(body []byte) *APIError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var root any
	if err := dec.Decode(&root); err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "The request body contains invalid JSON."}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &APIError{Status: http.StatusBadRequest, Code: CodeInvalidJSON, Message: "The request body contains invalid JSON."}
	}
	obj, ok := root.(map[string]any)
	if !ok {
		return formError([]Problem{{Code: "DICT_TYPE_CONVERT", Message: "Only dictionaries may be used in a DictType"}})
	}
	v := &validator{}
	v.message(obj)
	if len(v.problems) > 0 {
		return formError(v.problems)
	}
	content, _ := obj["content"].(string)
	embeds, _ := obj["embeds"].([]any)
	if strings.TrimSpace(content) == "" && len(embeds) == 0 {
		return &APIError{Status: http.StatusBadRequest, Code: CodeEmptyMessage, Message: "Cannot send an empty message"}
	}
	return nil
}

// validator collects the problems of one body.
type validator struct{ problems []Problem }

func (v *validator) add(path, code, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Code: code, Message: fmt.Sprintf(format, args...)})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// keys refuses the keys of obj that are not in allowed.
func (v *validator) keys(path string, obj map[string]any, allowed ...string) {
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	slices.Sort(names) // stable problem order
	for _, k := range names {
		if !slices.Contains(allowed, k) {
			v.add(join(path, k), "UNKNOWN_FIELD", "Not a documented field of this object (or not modelled by the fake).")
		}
	}
}

// str checks a string field and returns it (absent and null give "", false). A field with
// minLen 1 is required and must hold more than white space; maxLen 0 means unbounded.
func (v *validator) str(path string, val any, minLen, maxLen int) (string, bool) {
	if val == nil {
		if minLen > 0 {
			v.add(path, "BASE_TYPE_REQUIRED", "This field is required")
		}
		return "", false
	}
	s, ok := val.(string)
	if !ok {
		v.add(path, "BASE_TYPE_STRING", "Could not interpret %s as string.", describe(val))
		return "", false
	}
	n := utf8.RuneCountInString(s)
	switch {
	case minLen > 0 && strings.TrimSpace(s) == "":
		v.add(path, "BASE_TYPE_REQUIRED", "This field is required")
	case maxLen > 0 && n > maxLen && minLen > 0:
		v.add(path, "BASE_TYPE_BAD_LENGTH", "Must be between %d and %d in length.", minLen, maxLen)
	case maxLen > 0 && n > maxLen:
		v.add(path, "BASE_TYPE_MAX_LENGTH", "Must be %d or fewer in length.", maxLen)
	}
	return s, true
}

func (v *validator) boolean(path string, val any) {
	if val == nil {
		return
	}
	if _, ok := val.(bool); !ok {
		v.add(path, "BOOLEAN_TYPE_COERCE", "Value %s is not a valid boolean.", describe(val))
	}
}

func (v *validator) integer(path string, val any, lo, hi int64) {
	if val == nil {
		return
	}
	num, ok := val.(json.Number)
	if !ok {
		v.add(path, "NUMBER_TYPE_COERCE", "Value %s is not int.", describe(val))
		return
	}
	n, err := strconv.ParseInt(num.String(), 10, 64)
	switch {
	case err != nil:
		v.add(path, "NUMBER_TYPE_COERCE", "Value %q is not int.", num.String())
	case n < lo:
		v.add(path, "NUMBER_TYPE_MIN", "int value should be greater than or equal to %d.", lo)
	case n > hi:
		v.add(path, "NUMBER_TYPE_MAX", "int value should be less than or equal to %d.", hi)
	}
}

func (v *validator) object(path string, val any) (map[string]any, bool) {
	if val == nil {
		return nil, false
	}
	obj, ok := val.(map[string]any)
	if !ok {
		v.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
	}
	return obj, ok
}

func (v *validator) array(path string, val any, maxLen int) ([]any, bool) {
	if val == nil {
		return nil, false
	}
	arr, ok := val.([]any)
	if !ok {
		v.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType")
		return nil, false
	}
	if len(arr) > maxLen {
		v.add(path, "BASE_TYPE_MAX_LENGTH", "Must be %d or fewer in length.", maxLen)
	}
	return arr, true
}

// link checks an embed or avatar URL: http, https or attachment://, at most maxURL long.
// https://discord.com/developers/docs/resources/message#embed-object-embed-image-structure
func (v *validator) link(path string, val any) {
	s, ok := v.str(path, val, 0, maxURL)
	if !ok {
		return
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "attachment") || u.Host == "" {
		v.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
	}
}

func (v *validator) snowflakes(path string, val any, maxLen int) []string {
	arr, _ := v.array(path, val, maxLen)
	var out []string
	for i, x := range arr {
		s, ok := x.(string)
		if !ok || !snowflake.MatchString(s) {
			v.add(join(path, strconv.Itoa(i)), "NUMBER_TYPE_COERCE", "Value %s is not snowflake.", describe(x))
			continue
		}
		out = append(out, s)
	}
	return out
}

// message checks the Execute Webhook JSON params.
// https://discord.com/developers/docs/resources/webhook#execute-webhook-jsonform-params
func (v *validator) message(obj map[string]any) {
	v.keys("", obj, "content", "username", "avatar_url", "tts", "embeds", "allowed_mentions", "flags", "thread_name", "applied_tags")
	v.str("content", obj["content"], 0, MaxContent)
	// An absent or null username keeps the webhook's own name.
	if obj["username"] != nil {
		if name, ok := v.str("username", obj["username"], 1, MaxUsername); ok {
			// Webhook names may not contain "clyde" or "discord".
			// https://discord.com/developers/docs/resources/webhook#create-webhook
			lower := strings.ToLower(name)
			for _, banned := range []string{"clyde", "discord"} {
				if strings.Contains(lower, banned) {
					v.add("username", "USERNAME_INVALID_CONTAINS", "Username cannot contain %q", banned)
				}
			}
		}
	}
	v.link("avatar_url", obj["avatar_url"])
	v.boolean("tts", obj["tts"])
	// Flags a webhook may set: SUPPRESS_EMBEDS (1<<2), SUPPRESS_NOTIFICATIONS (1<<12),
	// IS_COMPONENTS_V2 (1<<15).
	// https://discord.com/developers/docs/resources/message#message-object-message-flags
	v.integer("flags", obj["flags"], 0, 1<<2|1<<12|1<<15)
	v.str("thread_name", obj["thread_name"], 0, MaxThreadName)
	v.snowflakes("applied_tags", obj["applied_tags"], maxAppliedTags)
	if am, ok := v.object("allowed_mentions", obj["allowed_mentions"]); ok {
		v.allowedMentions(am)
	}
	embeds, _ := v.array("embeds", obj["embeds"], MaxEmbeds)
	total := 0
	for i, e := range embeds {
		path := "embeds." + strconv.Itoa(i)
		if eo, ok := v.object(path, e); ok {
			total += v.embed(path, eo)
		}
	}
	if total > MaxEmbedTotal {
		v.add("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of %d", MaxEmbedTotal)
	}
}

// allowedMentions checks the allowed mentions object.
// https://discord.com/developers/docs/resources/message#allowed-mentions-object-allowed-mentions-structure
func (v *validator) allowedMentions(am map[string]any) {
	v.keys("allowed_mentions", am, "parse", "roles", "users", "replied_user")
	parse, _ := v.array("allowed_mentions.parse", am["parse"], 3)
	var kinds []string
	for i, p := range parse {
		s, _ := p.(string)
		if s != "roles" && s != "users" && s != "everyone" {
			v.add("allowed_mentions.parse."+strconv.Itoa(i), "ENUM_TYPE_COERCE", "Value %s is not a valid enum value.", describe(p))
			continue
		}
		kinds = append(kinds, s)
	}
	for _, kind := range []string{"roles", "users"} {
		ids := v.snowflakes("allowed_mentions."+kind, am[kind], maxMentionIDs)
		if len(ids) > 0 && slices.Contains(kinds, kind) {
			v.add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
				"parse:[%q] and %s: [ids] are mutually exclusive.", kind, kind)
		}
	}
	v.boolean("allowed_mentions.replied_user", am["replied_user"])
}

// embed checks one embed and returns the characters it adds to the 6000 total.
// https://discord.com/developers/docs/resources/message#embed-object-embed-structure
func (v *validator) embed(path string, e map[string]any) int {
	// Webhook embeds may not set provider or video, and type is always "rich".
	// https://discord.com/developers/docs/resources/webhook#execute-webhook
	v.keys(path, e, "title", "type", "description", "url", "timestamp", "color", "footer", "image", "thumbnail", "author", "fields")
	total := 0
	count := func(s string, _ bool) { total += utf8.RuneCountInString(s) }
	count(v.str(join(path, "title"), e["title"], 0, MaxTitle))
	if t, ok := v.str(join(path, "type"), e["type"], 0, 0); ok && t != "rich" {
		v.add(join(path, "type"), "ENUM_TYPE_COERCE", "Value %q is not a valid enum value.", t)
	}
	count(v.str(join(path, "description"), e["description"], 0, MaxDescription))
	v.link(join(path, "url"), e["url"])
	if ts, ok := v.str(join(path, "timestamp"), e["timestamp"], 0, 0); ok {
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			v.add(join(path, "timestamp"), "DATE_TIME_TYPE_PARSE", "Could not parse %q. Should be ISO8601.", ts)
		}
	}
	v.integer(join(path, "color"), e["color"], 0, maxColor)
	if f, ok := v.object(join(path, "footer"), e["footer"]); ok {
		v.keys(join(path, "footer"), f, "text", "icon_url")
		count(v.str(join(path, "footer.text"), f["text"], 1, MaxFooterText))
		v.link(join(path, "footer.icon_url"), f["icon_url"])
	}
	for _, media := range []string{"image", "thumbnail"} {
		if m, ok := v.object(join(path, media), e[media]); ok {
			v.keys(join(path, media), m, "url")
			if m["url"] == nil {
				v.add(join(path, media+".url"), "BASE_TYPE_REQUIRED", "This field is required")
			}
			v.link(join(path, media+".url"), m["url"])
		}
	}
	if a, ok := v.object(join(path, "author"), e["author"]); ok {
		v.keys(join(path, "author"), a, "name", "url", "icon_url")
		count(v.str(join(path, "author.name"), a["name"], 1, MaxAuthorName))
		v.link(join(path, "author.url"), a["url"])
		v.link(join(path, "author.icon_url"), a["icon_url"])
	}
	fields, _ := v.array(join(path, "fields"), e["fields"], MaxFields)
	for i, f := range fields {
		fp := join(path, "fields."+strconv.Itoa(i))
		fo, ok := v.object(fp, f)
		if !ok {
			continue
		}
		v.keys(fp, fo, "name", "value", "inline")
		count(v.str(fp+".name", fo["name"], 1, MaxFieldName))
		count(v.str(fp+".value", fo["value"], 1, MaxFieldValue))
		v.boolean(fp+".inline", fo["inline"])
	}
	return total
}

// describe quotes a JSON value for an error message, briefly.
func describe(val any) string {
	b, err := json.Marshal(val)
	if err != nil {
		return "?"
	}
	s := string(b)
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return s
}
