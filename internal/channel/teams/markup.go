package teams

import (
	"strings"

	"github.com/heraldhq/herald/internal/render"
)

// Markdown is how event data is escaped for the Adaptive Card markdown that TextBlocks and
// facts render: a subset of CommonMark (bold, italic, bullet and numbered lists, links)
// plus the {{DATE()}} and {{TIME()}} functions.
// https://learn.microsoft.com/en-us/adaptive-cards/authoring-cards/text-features
var Markdown = render.Markup{Escape: EscapeMarkdown, Unescape: unescapeMarkdown}

// everywhere reports whether c is escaped wherever it stands: emphasis (* _ ~), code (`),
// links and images ([ ]), autolinks and HTML (< >), tables (|), the backslash itself, and
// '{', which could spell {{DATE(…)}}.
func everywhere(c byte) bool {
	switch c {
	case '\\', '*', '_', '~', '`', '[', ']', '<', '>', '|', '{':
		return true
	}
	return false
}

// escapable reports whether a backslash before c is an escape that EscapeMarkdown may have
// written (and unescapeMarkdown removes): CommonMark lets a backslash escape any ASCII
// punctuation (https://spec.commonmark.org/0.31.2/#backslash-escapes).
func escapable(c byte) bool {
	switch c {
	case '#', '-', '+', '=', '.', ')', '&':
		return true
	}
	return everywhere(c)
}

// EscapeMarkdown escapes s for Adaptive Card markdown so that event data cannot format,
// link, start a list or a heading, or call a date function: the characters of emphasis,
// code, links, autolinks and tables get a backslash wherever they stand; '#', '-', '+' and
// '=' get one at the start of a line (headings, bullets, rules), and so does the '.' or ')'
// of a number starting a line (numbered lists); '{' always, so that no {{DATE(…)}} survives;
// '&' where it starts an entity (&amp; would show as "&"). Teams on the desktop and the web
// reads backslash escapes as CommonMark does. Bare URLs may still be shown as links by the
// client, but they show their true target.
func EscapeMarkdown(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if n := lineBreakAt(s[i:]); n > 0 {
			b.WriteString(s[i : i+n])
			i += n - 1
			lineStart = true
			continue
		}
		switch {
		case lineStart && transparent(c):
			b.WriteByte(c)
			continue
		case everywhere(c):
			b.WriteByte('\\')
			b.WriteByte(c)
		case lineStart && (c == '#' || c == '-' || c == '+' || c == '='):
			b.WriteByte('\\')
			b.WriteByte(c)
		case lineStart && isDigit(c):
			j := i
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			b.WriteString(s[i:j])
			if j < len(s) && (s[j] == '.' || s[j] == ')') {
				b.WriteByte('\\')
				b.WriteByte(s[j])
				j++
			}
			i = j - 1
		case c == '&' && entityAt(s[i:]):
			b.WriteString(`\&`)
		default:
			b.WriteByte(c)
		}
		lineStart = false
	}
	return b.String()
}

// needsEscape reports whether EscapeMarkdown would change s.
func needsEscape(s string) bool {
	lineStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if n := lineBreakAt(s[i:]); n > 0 {
			i += n - 1
			lineStart = true
			continue
		}
		switch {
		case lineStart && transparent(c):
			continue
		case everywhere(c), c == '&':
			return true
		case lineStart && (c == '#' || c == '-' || c == '+' || c == '=' || isDigit(c)):
			return true
		}
		lineStart = false
	}
	return false
}

// lineBreakAt returns the length of the line break s starts with, or 0: a newline or a
// carriage return, or one of the separators (U+0085, U+2028, U+2029) that the channel turns
// into newlines before posting.
func lineBreakAt(s string) int {
	switch {
	case s[0] == '\n' || s[0] == '\r':
		return 1
	case strings.HasPrefix(s, "\u0085"):
		return len("\u0085")
	case strings.HasPrefix(s, "\u2028"), strings.HasPrefix(s, "\u2029"):
		return len("\u2028")
	}
	return 0
}

// transparent reports whether c, at the start of a line, leaves the next character at the
// start of the line: indentation, and control characters, which the channel drops before
// posting.
func transparent(c byte) bool { return c == ' ' || c < 0x20 || c == 0x7f }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

// entityAt reports whether s starts with an HTML entity or numeric character reference
// (&amp; &#39; &#x27;), which CommonMark would decode.
// https://spec.commonmark.org/0.31.2/#entity-and-numeric-character-references
func entityAt(s string) bool {
	i := 1
	if i < len(s) && s[i] == '#' {
		i++
	}
	start := i
	for i < len(s) && i-start < 32 && isAlnum(s[i]) {
		i++
	}
	return i > start && i < len(s) && s[i] == ';'
}

// unescapeMarkdown undoes EscapeMarkdown: a backslash before a character it escapes is
// dropped. Since EscapeMarkdown escapes every backslash, this is exact.
func unescapeMarkdown(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && escapable(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
