package telegramtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Entity is one formatting entity of a parsed message, with its offset and length in UTF-16
// code units, as the Bot API reports them. https://core.telegram.org/bots/api#messageentity
type Entity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	Language string `json:"language,omitempty"`
}

// entityTypes maps the HTML style's tags to entity types.
// https://core.telegram.org/bots/api#html-style
var entityTypes = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"tg-spoiler": "spoiler", "span": "spoiler",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-emoji":   "custom_emoji",
}

// ParseError is why Telegram would not parse a text: its description, as the Bot API's 400
// answer carries it.
type ParseError struct {
	Description string
}

func (e *ParseError) Error() string { return e.Description }

func parseErr(format string, args ...any) error {
	return &ParseError{Description: "Bad Request: can't parse entities: " + fmt.Sprintf(format, args...)}
}

// element is an open tag during parsing.
type element struct {
	name, typ string
	offset    int // UTF-16 offset of its text
	at        int // byte offset of its tag
	url, lang string
	text      bool // whether text came before a nested tag (pre's language code)
}

// ParseHTML parses text in the Bot API's HTML style and returns the text a reader sees and its
// entities, or a *ParseError worded as Telegram's. It applies the documented rules: only the
// listed tags, with their listed attributes; every '<', '>' and '&' that is not part of a tag
// or an entity escaped; only &lt; &gt; &amp; &quot; and numeric entities; tags properly
// closed; and entities nested as allowed (bold, italic, underline, strike-through and
// spoiler in anything but code and pre; links, code, pre and quotations not inside one
// another, but for <pre><code class="language-…">).
// https://core.telegram.org/bots/api#html-style
// https://core.telegram.org/bots/api#formatting-options
func ParseHTML(s string) (string, []Entity, error) {
	var out strings.Builder
	var ents []Entity
	var stack []element
	pos := 0 // UTF-16 offset in out
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", nil, parseErr("Unclosed start tag at byte offset %d", i)
			}
			raw := s[i+1 : i+end]
			if strings.HasPrefix(raw, "/") {
				name := strings.TrimSpace(raw[1:])
				if len(stack) == 0 {
					return "", nil, parseErr("Unexpected end tag at byte offset %d", i)
				}
				top := stack[len(stack)-1]
				if top.name != name {
					return "", nil, parseErr("Can't find end tag corresponding to start tag \"%s\"", top.name)
				}
				stack = stack[:len(stack)-1]
				if pos > top.offset {
					ents = append(ents, Entity{Type: top.typ, Offset: top.offset, Length: pos - top.offset, URL: top.url, Language: top.lang})
				}
				if top.name == "code" && top.lang != "" {
					// The language belongs to the enclosing pre.
					for k := len(ents) - 1; k >= 0; k-- {
						if ents[k].Type == "pre" && ents[k].Offset == top.offset {
							ents[k].Language = top.lang
						}
					}
				}
				i += end + 1
				continue
			}
			el, err := openElement(raw, i, stack)
			if err != nil {
				return "", nil, err
			}
			for k := range stack {
				stack[k].text = true
			}
			el.offset = pos
			stack = append(stack, el)
			i += end + 1
		case '>':
			return "", nil, parseErr("telegramtest: unescaped '>' at byte offset %d (the HTML style says it must be &gt;)", i)
		case '&':
			r, n := decodeEntity(s[i:])
			if n == 0 {
				return "", nil, parseErr("Unsupported HTML entity at byte offset %d", i)
			}
			out.WriteRune(r)
			pos += width(r)
			markText(stack)
			i += n
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			out.WriteString(s[i : i+n])
			pos += width(r)
			markText(stack)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", nil, parseErr("Can't find end tag corresponding to start tag \"%s\"", stack[len(stack)-1].name)
	}
	// Entities are reported by offset, outer first.
	slices.SortStableFunc(ents, func(a, b Entity) int {
		if a.Offset != b.Offset {
			return a.Offset - b.Offset
		}
		return b.Length - a.Length
	})
	return out.String(), ents, nil
}

func markText(stack []element) {
	if len(stack) > 0 {
		stack[len(stack)-1].text = true
	}
}

// openElement parses a start tag's inside (name and attributes) at byte offset at, and checks
// that it may open inside stack.
func openElement(raw string, at int, stack []element) (element, error) {
	name, attrs, _ := strings.Cut(raw, " ")
	typ, ok := entityTypes[name]
	if !ok {
		return element{}, parseErr("Unsupported start tag \"%s\" at byte offset %d", name, at)
	}
	el := element{name: name, typ: typ, at: at}
	attr, value, hasValue, err := parseAttr(strings.TrimSpace(attrs), at)
	if err != nil {
		return element{}, err
	}
	bad := func() (element, error) {
		return element{}, parseErr("telegramtest: tag \"%s\" at byte offset %d has an attribute the HTML style does not list", name, at)
	}
	switch name {
	case "a":
		if attr != "href" || !hasValue || strings.TrimSpace(value) == "" {
			return element{}, parseErr("telegramtest: tag \"a\" at byte offset %d needs an href", at)
		}
		el.url = value
	case "span":
		if attr != "class" || value != "tg-spoiler" {
			return element{}, parseErr("Unsupported start tag \"span\" at byte offset %d", at)
		}
	case "code":
		if attr != "" {
			lang, ok := strings.CutPrefix(value, "language-")
			if attr != "class" || !ok || lang == "" {
				return bad()
			}
			el.lang = lang
		}
	case "blockquote":
		if attr != "" && (attr != "expandable" || hasValue) {
			return bad()
		}
		if attr == "expandable" {
			el.typ = "expandable_blockquote"
		}
	case "tg-emoji":
		if attr != "emoji-id" || value == "" {
			return bad()
		}
	default:
		if attr != "" {
			return bad()
		}
	}
	if err := nesting(el, stack); err != nil {
		return element{}, err
	}
	return el, nil
}

// parseAttr parses at most one attribute: name, name="value" or name='value'. Entities in the
// value are decoded.
func parseAttr(s string, at int) (name, value string, hasValue bool, err error) {
	if s == "" {
		return "", "", false, nil
	}
	name, rest, hasValue := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if !hasValue {
		if strings.ContainsAny(name, " \"'") {
			return "", "", false, parseErr("telegramtest: malformed attributes at byte offset %d", at)
		}
		return name, "", false, nil
	}
	rest = strings.TrimSpace(rest)
	if len(rest) < 2 || (rest[0] != '"' && rest[0] != '\'') || rest[len(rest)-1] != rest[0] || strings.IndexByte(rest[1:len(rest)-1], rest[0]) >= 0 {
		return "", "", false, parseErr("telegramtest: malformed attribute value at byte offset %d", at)
	}
	raw := rest[1 : len(rest)-1]
	var v strings.Builder
	for i := 0; i < len(raw); {
		if raw[i] == '&' {
			r, n := decodeEntity(raw[i:])
			if n == 0 {
				return "", "", false, parseErr("Unsupported HTML entity at byte offset %d", at)
			}
			v.WriteRune(r)
			i += n
			continue
		}
		v.WriteByte(raw[i])
		i++
	}
	return name, v.String(), true, nil
}

// nesting checks that el may open inside stack.
// https://core.telegram.org/bots/api#formatting-options ("Message entities can be nested,
// providing following restrictions are met")
func nesting(el element, stack []element) error {
	other := func(t string) bool {
		return t == "text_link" || t == "code" || t == "pre" || t == "blockquote" || t == "expandable_blockquote" || t == "custom_emoji"
	}
	for i, o := range stack {
		fail := func() error {
			return parseErr("telegramtest: entity \"%s\" at byte offset %d cannot be nested in \"%s\"", el.name, el.at, o.name)
		}
		switch {
		case o.typ == "pre":
			// <pre><code class="language-…"> names the block's language.
			if el.typ != "code" || i != len(stack)-1 || o.text {
				return fail()
			}
		case o.typ == "code":
			return fail()
		case other(o.typ):
			if other(el.typ) {
				return fail()
			}
		default:
			if el.typ == "code" || el.typ == "pre" {
				return fail()
			}
		}
	}
	return nil
}

// decodeEntity decodes the entity s starts with: &lt; &gt; &amp; &quot; or a numeric
// reference of a valid character. It returns 0 for anything else.
func decodeEntity(s string) (rune, int) {
	for e, r := range map[string]rune{"&lt;": '<', "&gt;": '>', "&amp;": '&', "&quot;": '"'} {
		if strings.HasPrefix(s, e) {
			return r, len(e)
		}
	}
	if !strings.HasPrefix(s, "&#") {
		return 0, 0
	}
	end := strings.IndexByte(s, ';')
	if end < 3 || end > 12 {
		return 0, 0
	}
	num, base := s[2:end], 10
	if num[0] == 'x' || num[0] == 'X' {
		num, base = num[1:], 16
	}
	n, err := strconv.ParseInt(num, base, 32)
	if err != nil || n <= 0 || !utf8.ValidRune(rune(n)) {
		return 0, 0
	}
	return rune(n), end + 1
}

// width is r's length in UTF-16 code units.
func width(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// Length returns s's length as Telegram counts message text: in UTF-16 code units.
func Length(s string) int {
	n := 0
	for _, r := range s {
		n += width(r)
	}
	return n
}
