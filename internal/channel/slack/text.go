package slack

import (
	"strings"

	"github.com/heraldhq/herald/internal/channel"
)

// ellipsis marks text cut to fit a limit.
const ellipsis = "…"

// entities are the only three HTML entities Slack decodes; '&', '<' and '>' are its control
// characters. https://api.slack.com/reference/surfaces/formatting#escaping
var entities = [...]string{"&amp;", "&lt;", "&gt;"}

// chars measures s against Slack's limits. Slack counts "characters" without saying whether
// it means code points or UTF-16 code units; counting UTF-16 units (a character outside the
// Basic Multilingual Plane, such as most emoji, counts twice) keeps every text within the
// limit under either reading.
func chars(s string) int { return channel.UTF16Len(s) }

// clean makes s valid UTF-8 without control characters other than newline and tab.
func clean(s string) string { return channel.Clean(s) }

// oneLine replaces line breaks and tabs with spaces, for texts shown on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// entityAt reports the length of the entity s starts with, or 0.
func entityAt(s string) int {
	for _, e := range entities {
		if strings.HasPrefix(s, e) {
			return len(e)
		}
	}
	return 0
}

// escapePlain makes s safe for a plain_text object: Slack applies its escaping to every text
// object, so '&', '<' and '>' become entities; entities already there are kept, since the
// renderer escapes event data.
func escapePlain(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			if n := entityAt(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n - 1
				continue
			}
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// escapeMrkdwn makes s safe for a mrkdwn text: a control sequence the template wrote
// (<https://…|label>, <@U…>, <!date^…|…>) is kept; a '<' that opens none, a '>' that is
// neither a sequence's end nor a quote at the start of a line, and an '&' that starts no
// entity are escaped. Afterwards every '<' in s opens a complete sequence, which truncate
// relies on.
func escapeMrkdwn(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			if n := entityAt(s[i:]); n > 0 {
				b.WriteString(s[i : i+n])
				i += n - 1
				continue
			}
			b.WriteString("&amp;")
		case '<':
			if n := sequenceAt(s[i:]); n > 0 {
				b.WriteString(escapeInSequence(s[i : i+n]))
				i += n - 1
				continue
			}
			b.WriteString("&lt;")
		case '>':
			if i == 0 || s[i-1] == '\n' {
				b.WriteByte(c) // a block quote
				continue
			}
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// sequenceAt returns the length of the control sequence s starts with ('<' up to the next
// '>', with no '<' or line break between), or 0 if s starts none. A sequence is a mention of
// a channel or user (<#C…>, <@U…>), a special command (<!here>, <!subteam^…>), a date with
// its required fallback (<!date^unix^format|fallback>) or a link with a scheme, each with an
// optional |label.
// https://api.slack.com/reference/surfaces/formatting#advanced
func sequenceAt(s string) int {
	// Look no further than the next '<' or line break, so that escaping stays linear.
	end := 1
	for end < len(s) && s[end] != '>' && s[end] != '<' && s[end] != '\n' {
		end++
	}
	if end == len(s) || s[end] != '>' || end < 2 {
		return 0
	}
	inner := s[1:end]
	target, label, hasLabel := strings.Cut(inner, "|")
	if target == "" {
		return 0 // "<|label>" names nothing
	}
	ok := false
	switch target[0] {
	case '#', '@':
		ok = len(target) > 1 && allBytes(target[1:], func(c byte) bool { return ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') })
	case '!':
		cmd, _, _ := strings.Cut(target[1:], "^")
		ok = cmd != "" && allBytes(cmd, func(c byte) bool { return 'a' <= c && c <= 'z' })
		if cmd == "date" {
			ok = validDate(target) && hasLabel && label != ""
		}
	default:
		scheme, rest, found := strings.Cut(target, ":")
		ok = found && rest != "" && !strings.ContainsAny(target, " \t") &&
			scheme != "" && isLetter(scheme[0]) &&
			allBytes(scheme, func(c byte) bool { return isLetter(c) || ('0' <= c && c <= '9') || c == '+' || c == '.' || c == '-' })
	}
	if !ok {
		return 0
	}
	return end + 1
}

// validDate reports whether target is "!date^<unix>^<format>" with an optional "^<link>".
// https://api.slack.com/reference/surfaces/formatting#date-formatting
func validDate(target string) bool {
	parts := strings.Split(target, "^")
	if len(parts) < 3 || len(parts) > 4 || parts[0] != "!date" {
		return false
	}
	unix := strings.TrimPrefix(parts[1], "-")
	if unix == "" || !allBytes(unix, func(c byte) bool { return '0' <= c && c <= '9' }) {
		return false
	}
	for _, p := range parts[2:] {
		if p == "" {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

func allBytes(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

// escapeInSequence escapes bare '&' inside a control sequence.
func escapeInSequence(seq string) string {
	if !strings.Contains(seq, "&") {
		return seq
	}
	var b strings.Builder
	for i := 0; i < len(seq); i++ {
		if seq[i] == '&' && entityAt(seq[i:]) == 0 {
			b.WriteString("&amp;")
			continue
		}
		b.WriteByte(seq[i])
	}
	return b.String()
}

// truncate cuts s, already escaped by escapePlain or escapeMrkdwn, to at most max characters
// (as chars counts them), ending it with an ellipsis. The cut falls on a rune boundary, never
// inside an entity or a control sequence, and, for mrkdwn, leaves no code span, bold, italic
// or strike-through open on its last line; a code block left open is closed. max must leave
// room for the ellipsis and a closing fence (at least 5).
func truncate(s string, max int, mrkdwn bool) string {
	if chars(s) <= max {
		return s
	}
	fence := mrkdwn && strings.Contains(s, "```")
	budget := max - chars(ellipsis)
	if fence {
		budget -= len("\n```")
	}
	i := channel.UTF16Prefix(s, budget)
	i = entitySafe(s, i)
	i = sequenceSafe(s, i)
	if mrkdwn {
		i = markupCut(s[:i])
	}
	out := channel.TrimEnd(s[:i]) + ellipsis
	if fence && strings.Count(out, "```")%2 == 1 {
		out += "\n```"
	}
	return out
}

// entitySafe moves a cut at i back to the start of an entity it would split.
func entitySafe(s string, i int) int {
	for j := i - 1; j >= 0 && j > i-len("&amp;"); j-- {
		switch s[j] {
		case '&':
			if n := entityAt(s[j:]); n > 0 && j+n > i {
				return j
			}
			return i
		case ';':
			return i
		}
	}
	return i
}

// sequenceSafe moves a cut at i back to the start of a control sequence it would split.
func sequenceSafe(s string, i int) int {
	lt := strings.LastIndexByte(s[:i], '<')
	if lt >= 0 && strings.IndexByte(s[lt:i], '>') < 0 {
		return lt
	}
	return i
}

// markupCut returns how much of p to keep so that no inline marker (`, *, _ or ~) is left
// open on its last line: the cut moves back to the last unmatched marker, repeatedly.
// Slack's inline formatting does not span lines, so earlier lines cannot be affected by a
// cut; markers inside code spans, code blocks and control sequences are literal. It runs in
// time linear in the last line.
func markupCut(p string) int {
	if strings.Count(p, "```")%2 == 1 {
		return len(p) // inside a code block, which truncate closes
	}
	start := strings.LastIndexByte(p, '\n') + 1
	line := p[start:]
	if strings.Contains(line, "```") {
		return len(p)
	}
	end := len(line)
	if strings.Count(line, "`")%2 == 1 {
		end = strings.LastIndexByte(line, '`')
	}
	type mark struct{ pos, kind int }
	var marks []mark
	var count [3]int
	inCode, inSeq := false, false
	for k := 0; k < end; k++ {
		c := line[k]
		switch {
		case c == '`':
			inCode = !inCode
		case inCode:
		case c == '<':
			inSeq = true
		case c == '>':
			inSeq = false
		case inSeq:
		default:
			if m := strings.IndexByte("*_~", c); m >= 0 {
				count[m]++
				marks = append(marks, mark{k, m})
			}
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
	return start + end
}
