package telegram

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/render"
)

// HTML is how event data is escaped for Telegram's HTML parse mode: '&', '<', '>' and '"'
// become entities, so that data can open no tag and no link.
// https://core.telegram.org/bots/api#html-style
var HTML = render.Markup{Escape: EscapeHTML, Unescape: unescapeHTML}

var (
	htmlEscaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	htmlUnescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`)
)

// EscapeHTML escapes s for Telegram's HTML parse mode with the four named entities the Bot
// API supports (&amp; &lt; &gt; &quot;), so that event data cannot form a tag, a link or an
// entity, and is safe inside an attribute.
// https://core.telegram.org/bots/api#html-style
func EscapeHTML(s string) string {
	if !strings.ContainsAny(s, `&<>"`) {
		return s
	}
	return htmlEscaper.Replace(s)
}

func unescapeHTML(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return htmlUnescaper.Replace(s)
}

// tagRule is what Telegram allows of one tag.
type tagRule struct {
	// attr is the attribute the tag may carry ("href" for a), or "".
	attr string
	// needAttr means the tag is valid only with attr ("a" needs href).
	needAttr bool
	// attrValue, if set, is the only value attr may have (span class="tg-spoiler").
	attrValue string
	// attrPrefix, if set, is the prefix attr's value must have (code class="language-…").
	attrPrefix string
	// bare is set for a boolean attribute without a value (blockquote expandable).
	bare bool
	// kind groups synonyms: <b> and <strong> are both bold.
	kind string
}

// tags are the tags of Telegram's HTML style, with their synonyms; anything else is text.
// https://core.telegram.org/bots/api#html-style
var tags = map[string]tagRule{
	"b": {kind: "b"}, "strong": {kind: "b"},
	"i": {kind: "i"}, "em": {kind: "i"},
	"u": {kind: "u"}, "ins": {kind: "u"},
	"s": {kind: "s"}, "strike": {kind: "s"}, "del": {kind: "s"},
	"tg-spoiler": {kind: "spoiler"},
	"span":       {attr: "class", needAttr: true, attrValue: "tg-spoiler", kind: "spoiler"},
	"a":          {attr: "href", needAttr: true, kind: "a"},
	"code":       {attr: "class", attrPrefix: "language-", kind: "code"},
	"pre":        {kind: "pre"},
	"blockquote": {attr: "expandable", bare: true, kind: "blockquote"},
}

// tag is one parsed tag.
type tag struct {
	name    string
	closing bool
	attr    string // the attribute's name, if any
	value   string // its value, still escaped as written
	hasAttr bool
	size    int // bytes of the tag in the source
}

// parseTag parses the tag s starts with ('<' name attributes '>'), or reports false. It
// accepts one attribute, quoted with " or ', or bare.
func parseTag(s string) (tag, bool) {
	var t tag
	i := 1
	if i < len(s) && s[i] == '/' {
		t.closing = true
		i++
	}
	start := i
	for i < len(s) && (isLower(s[i]) || s[i] == '-') {
		i++
	}
	t.name = s[start:i]
	if t.name == "" {
		return t, false
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if !t.closing && i < len(s) && isLower(s[i]) {
		start = i
		for i < len(s) && (isLower(s[i]) || s[i] == '-') {
			i++
		}
		t.attr, t.hasAttr = s[start:i], true
		if i < len(s) && s[i] == '=' {
			i++
			if i >= len(s) || (s[i] != '"' && s[i] != '\'') {
				return t, false
			}
			q := s[i]
			end := strings.IndexByte(s[i+1:], q)
			if end < 0 {
				return t, false
			}
			t.value = s[i+1 : i+1+end]
			if strings.ContainsAny(t.value, "<>\n") {
				return t, false
			}
			i += end + 2
		}
		for i < len(s) && s[i] == ' ' {
			i++
		}
	}
	if i >= len(s) || s[i] != '>' {
		return t, false
	}
	t.size = i + 1
	return t, true
}

func isLower(c byte) bool { return 'a' <= c && c <= 'z' }

// entityLen returns the length of the entity s starts with, if Telegram decodes it: one of
// the four named entities it supports, or a numeric character reference of a valid
// character; 0 otherwise.
func entityLen(s string) int {
	for _, e := range [...]string{"&amp;", "&lt;", "&gt;", "&quot;"} {
		if strings.HasPrefix(s, e) {
			return len(e)
		}
	}
	if _, n := numericEntity(s); n > 0 {
		return n
	}
	return 0
}

// numericEntity decodes the numeric character reference s starts with (&#128293; &#x1F525;),
// returning the character and the reference's length, or 0 if there is none or it names no
// valid character.
func numericEntity(s string) (rune, int) {
	if !strings.HasPrefix(s, "&#") {
		return 0, 0
	}
	i, base := 2, 10
	if i < len(s) && (s[i] == 'x' || s[i] == 'X') {
		i, base = 3, 16
	}
	start := i
	for i < len(s) && i-start < 8 && (isDigit(s[i]) || (base == 16 && strings.IndexByte("abcdefABCDEF", s[i]) >= 0)) {
		i++
	}
	if i == start || i >= len(s) || s[i] != ';' {
		return 0, 0
	}
	n, err := strconv.ParseInt(s[start:i], base, 32)
	if err != nil || n <= 0 || !utf8.ValidRune(rune(n)) || unicode.IsControl(rune(n)) && n != '\n' && n != '\t' {
		return 0, 0
	}
	return rune(n), i + 1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// open is a tag left open while scanning.
type open struct {
	name, kind string
	start      int  // where its opening tag starts in the output
	content    bool // whether anything visible follows it
}

// allowedIn reports whether a tag of kind may open inside the open tags of stack, as
// Telegram nests entities: bold, italic, underline, strike-through and spoiler may hold and
// sit in anything but code and pre; links, code, pre and quotations may not hold one
// another, except a pre's code that names its language.
// https://core.telegram.org/bots/api#formatting-options
func allowedIn(kind string, stack []open) bool {
	other := kind == "a" || kind == "code" || kind == "pre" || kind == "blockquote"
	for i, o := range stack {
		switch o.kind {
		case "pre":
			if !(kind == "code" && i == len(stack)-1 && !o.content) {
				return false
			}
		case "code":
			return false
		case "a", "blockquote":
			if other {
				return false
			}
		default: // bold, italic, underline, strike-through, spoiler
			if kind == "code" || kind == "pre" {
				return false
			}
		}
	}
	return true
}

// sanitize makes s, a template's output with event data escaped by EscapeHTML, into HTML
// that Telegram parses: the allowed tags, properly nested, with their allowed attributes,
// stay; any other '<', '>' or '&' that is no entity is escaped; tags left open are closed at
// the end, and stray end tags become text. It also cleans s (see clean).
func sanitize(s string) string {
	s = clean(s)
	if !strings.ContainsAny(s, "<>&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	var stack []open
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			t, ok := parseTag(s[i:])
			rule, known := tags[t.name]
			switch {
			case !ok || !known:
			case t.closing:
				if len(stack) > 0 && stack[len(stack)-1].name == t.name {
					stack = stack[:len(stack)-1]
					b.WriteString("</" + t.name + ">")
					i += t.size - 1
					continue
				}
			case validAttr(rule, t) && allowedIn(rule.kind, stack):
				if len(stack) > 0 {
					stack[len(stack)-1].content = true // its ancestors were marked when it opened
				}
				stack = append(stack, open{name: t.name, kind: rule.kind, start: b.Len()})
				b.WriteString(openTag(t))
				i += t.size - 1
				continue
			}
			b.WriteString("&lt;")
			if len(stack) > 0 {
				stack[len(stack)-1].content = true
			}
			continue
		case '>':
			b.WriteString("&gt;")
		case '&':
			if n := entityLen(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n - 1
			} else {
				b.WriteString("&amp;")
			}
		default:
			b.WriteByte(c)
		}
		if len(stack) > 0 {
			stack[len(stack)-1].content = true // text: pre may no longer open a code
		}
	}
	for k := len(stack) - 1; k >= 0; k-- {
		b.WriteString("</" + stack[k].name + ">")
	}
	return b.String()
}

// validAttr reports whether t carries what rule requires and nothing else.
func validAttr(r tagRule, t tag) bool {
	switch {
	case !t.hasAttr:
		return !r.needAttr
	case t.attr != r.attr:
		return false
	case r.bare:
		return t.value == ""
	case r.attrValue != "":
		return t.value == r.attrValue
	case r.attrPrefix != "":
		return strings.HasPrefix(t.value, r.attrPrefix) && len(t.value) > len(r.attrPrefix) && !strings.ContainsAny(t.value, ` "'&`)
	}
	return strings.TrimSpace(t.value) != ""
}

// openTag writes t back in one canonical form: attribute values double-quoted, with any
// bare '&' or '"' in them escaped.
func openTag(t tag) string {
	if !t.hasAttr {
		return "<" + t.name + ">"
	}
	if t.value == "" {
		return "<" + t.name + " " + t.attr + ">"
	}
	var v strings.Builder
	for i := 0; i < len(t.value); i++ {
		switch c := t.value[i]; {
		case c == '&' && entityLen(t.value[i:]) == 0:
			v.WriteString("&amp;")
		case c == '"':
			v.WriteString("&quot;")
		default:
			v.WriteByte(c)
		}
	}
	return "<" + t.name + " " + t.attr + `="` + v.String() + `">`
}

// units counts r as Telegram counts message length: in UTF-16 code units.
// https://core.telegram.org/api/entities#entity-length
func units(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

// visibleLen returns the length of s, sanitized HTML, as Telegram measures a message's text
// after parsing its entities: tags count nothing, an entity counts as its character, in
// UTF-16 code units.
func visibleLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			if t, ok := parseTag(s[i:]); ok {
				i += t.size
				continue
			}
		case '&':
			if k := entityLen(s[i:]); k > 0 {
				r, _ := numericEntity(s[i:])
				n += max(units(r), 1)
				i += k
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		n += units(r)
		i += size
	}
	return n
}

// truncate cuts s, sanitized HTML, to at most limit visible UTF-16 code units (visibleLen),
// ending it with an ellipsis. It never cuts inside a tag, an entity or a surrogate pair,
// closes the tags left open (and drops those left empty), and trims white space before the
// ellipsis. limit must be at least 1.
func truncate(s string, limit int) string {
	if visibleLen(s) <= limit {
		return s
	}
	budget := limit - units([]rune(ellipsis)[0])
	var b strings.Builder
	b.Grow(min(len(s), 4*limit))
	var stack []open
	n := 0
	for i := 0; i < len(s); {
		if s[i] == '<' {
			if t, ok := parseTag(s[i:]); ok {
				if t.closing {
					if len(stack) > 0 {
						stack = stack[:len(stack)-1]
					}
				} else {
					// content stays false until text follows: a tag holding only empty
					// tags is empty too.
					stack = append(stack, open{name: t.name, start: b.Len()})
				}
				b.WriteString(s[i : i+t.size])
				i += t.size
				continue
			}
		}
		size, w := 1, 1
		if s[i] == '&' {
			if k := entityLen(s[i:]); k > 0 {
				r, _ := numericEntity(s[i:])
				size, w = k, max(units(r), 1)
			}
		} else {
			r, rs := utf8.DecodeRuneInString(s[i:])
			size, w = rs, units(r)
		}
		if n+w > budget {
			break
		}
		for k := len(stack) - 1; k >= 0 && !stack[k].content; k-- {
			stack[k].content = true
		}
		b.WriteString(s[i : i+size])
		n += w
		i += size
	}
	out := b.String()
	// Drop tags opened with nothing inside them yet: an empty entity says nothing.
	for len(stack) > 0 && !stack[len(stack)-1].content {
		out = out[:stack[len(stack)-1].start]
		stack = stack[:len(stack)-1]
	}
	b.Reset()
	b.WriteString(channel.TrimEnd(out))
	b.WriteString(ellipsis)
	for k := len(stack) - 1; k >= 0; k-- {
		b.WriteString("</" + stack[k].name + ">")
	}
	return b.String()
}

// clean makes s valid UTF-8 without control characters other than newline and tab; other
// line separators become newlines.
func clean(s string) string { return channel.Clean(s) }

// oneLine replaces line breaks and tabs with spaces, for texts shown on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// ellipsis marks text cut to fit a limit.
const ellipsis = "…"
