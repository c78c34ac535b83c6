package channel

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Text helpers the channels share to fit rendered text to a provider's limits.

// UTF16Len returns the length of s in UTF-16 code units. Providers that count "characters"
// without saying how (Slack, Twilio, PagerDuty) are safest measured so: a character outside
// the Basic Multilingual Plane, such as most emoji, counts twice, which keeps a text within
// the limit whether they count code points or UTF-16 units. An invalid byte counts one, as
// the replacement character it reads as.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += runeUnits(r)
	}
	return n
}

// runeUnits returns how many UTF-16 units r takes. Ranging over a string yields no
// surrogate, so utf16.RuneLen answers 1 or 2; the fallback keeps any other rune at 1.
func runeUnits(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1
}

// UTF16Prefix returns the length in bytes of the longest prefix of s within n UTF-16 units
// that ends on a rune boundary: where to cut s to fit n.
func UTF16Prefix(s string, n int) int {
	w := 0
	for i, r := range s {
		if w+runeUnits(r) > n {
			return i
		}
		w += runeUnits(r)
	}
	return len(s)
}

// CutUTF16 keeps s within max UTF-16 units. A longer s is cut on a rune boundary (see
// UTF16Prefix), stripped of what TrimEnd strips, and ended with marker, which counts
// toward max.
func CutUTF16(s string, max int, marker string) string {
	if UTF16Len(s) <= max {
		return s
	}
	return TrimEnd(s[:UTF16Prefix(s, max-UTF16Len(marker))]) + marker
}

// TrimEnd drops the white space and zero-width joiners that end s, as a cut leaves them: the
// marker after a cut then follows the last word, and no emoji sequence is left waiting for
// its next part.
func TrimEnd(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '\u200d' })
}

// Clean makes s valid UTF-8 (invalid bytes become U+FFFD) without control characters other
// than newline and tab: the others are dropped, and the Unicode line and paragraph
// separators and NEL become newlines, which every provider shows and JSON needs no escape
// for.
func Clean(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool {
		return (unicode.IsControl(r) && r != '\n' && r != '\t') || r == '\u2028' || r == '\u2029'
	}) < 0 {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\u2028' || r == '\u2029' || r == '\u0085':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}
