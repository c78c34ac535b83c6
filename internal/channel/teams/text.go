package teams

import (
	"strings"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
)

// ellipsis marks text cut to fit a limit.
const ellipsis = "…"

// clean makes s valid UTF-8 without control characters other than newline and tab; other
// line separators become newlines, so that JSON never needs \u2028 escapes.
func clean(s string) string { return channel.Clean(s) }

// oneLine replaces line breaks and tabs with spaces, for texts shown on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// truncate cuts s, markdown whose event data EscapeMarkdown escaped, to at most max runes,
// ending it with an ellipsis. The cut falls on a rune boundary, never between a backslash
// and the character it escapes, never inside a link, and leaves no bold, italic,
// strike-through or code span open. max must leave room for the ellipsis (at least 2).
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	budget := max - utf8.RuneCountInString(ellipsis)
	i, n := len(s), 0
	for j := range s {
		if n == budget {
			i = j
			break
		}
		n++
	}
	p := s[:markupCut(s[:i])]
	p = channel.TrimEnd(p)
	if trailingBackslashes(p)%2 == 1 {
		p = p[:len(p)-1] // a lone backslash would escape nothing, or the ellipsis
	}
	return p + ellipsis
}

// trailingBackslashes counts the backslashes that end s.
func trailingBackslashes(s string) int {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n
}

// Kinds of inline markers that markupCut balances.
const (
	markBold   = iota // **
	markStar          // *
	markUnder         // _
	markStrike        // ~~
	markCode          // `
	markKinds
)

// markupCut returns how much of p to keep so that no inline marker the template wrote
// (**, *, _, ~~, `) is left open and no link ([label](url)) is cut in half: the cut moves
// back to the last unmatched marker or unfinished link, repeatedly. Escaped characters are
// literal, and so is everything inside a code span.
func markupCut(p string) int {
	type mark struct{ pos, kind int }
	var marks []mark
	var count [markKinds]int
	end, link := len(p), -1
	inCode := false
	for k := 0; k < len(p); k++ {
		c := p[k]
		switch {
		case c == '\\' && !inCode:
			k++ // the escaped character is text
		case c == '`':
			inCode = !inCode
			count[markCode]++
			marks = append(marks, mark{k, markCode})
		case inCode:
		case c == '*' && k+1 < len(p) && p[k+1] == '*':
			count[markBold]++
			marks = append(marks, mark{k, markBold})
			k++
		case c == '*':
			count[markStar]++
			marks = append(marks, mark{k, markStar})
		case c == '_':
			count[markUnder]++
			marks = append(marks, mark{k, markUnder})
		case c == '~' && k+1 < len(p) && p[k+1] == '~':
			count[markStrike]++
			marks = append(marks, mark{k, markStrike})
			k++
		case c == '[' && link < 0:
			link = k
		case c == ']' && link >= 0:
			if k+1 < len(p) && p[k+1] == '(' {
				close := strings.IndexByte(p[k+1:], ')')
				if close < 0 {
					k = len(p) // the URL is cut: drop the whole link
					continue
				}
				k += 1 + close
			}
			link = -1
		}
	}
	if link >= 0 {
		end = link
		for len(marks) > 0 && marks[len(marks)-1].pos >= end {
			count[marks[len(marks)-1].kind]--
			marks = marks[:len(marks)-1]
		}
	}
	// Cutting at a marker drops every marker after it, which may unbalance another kind:
	// repeat until every kind is balanced. Each marker is looked at and dropped once.
	n := len(marks)
	for {
		k := n - 1
		for k >= 0 && count[marks[k].kind]%2 == 0 {
			k--
		}
		if k < 0 {
			break
		}
		for j := k; j < n; j++ {
			count[marks[j].kind]--
		}
		n, end = k, marks[k].pos
	}
	return end
}
