package render

import "strings"

// escaper makes event data safe for one channel's markup, and undoes it for the template
// functions that must see the original text (upper, truncate, json ...).
type escaper struct {
	esc   func(string) string
	unesc func(string) string
	// plainFooter is true where the channel shows the footer as plain text, so that
	// escaping it would print the escape characters.
	plainFooter bool
	// none is true where event data is not escaped at all (plain text).
	none bool
}

func identity(s string) string { return s }

// slackEscaper and slackUnescaper follow
// https://api.slack.com/reference/surfaces/formatting#escaping: only &, < and > are
// control characters, and only these three entities are decoded.
var (
	slackEscaper   = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")
	slackUnescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")
)

// EscapeSlack escapes s for Slack mrkdwn and plain_text: & < > become entities, so that
// event data cannot form links, mentions (<!channel>) or broadcasts.
func EscapeSlack(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	return slackEscaper.Replace(s)
}

func unescapeSlack(s string) string {
	if !strings.Contains(s, "&") {
		return s
	}
	return slackUnescaper.Replace(s)
}

// zwsp is a zero-width space: put after '@' it stops Discord from reading a mention while
// the text looks the same.
const zwsp = "\u200b"

// discordSpecial reports whether Discord markdown gives c a meaning that a backslash
// turns off. https://support.discord.com/hc/en-us/articles/210298617
func discordSpecial(c byte) bool {
	switch c {
	case '\\', '*', '_', '~', '`', '|', '>', '#', '[', ']', '(', ')':
		return true
	}
	return false
}

// EscapeDiscord escapes s for Discord markdown: markdown characters get a backslash, and
// mass and direct mentions (@everyone, @here, <@id>, <@&role>) get a zero-width space after
// the '@' so that event data can never ping anyone
// (https://discord.com/developers/docs/reference#message-formatting).
func EscapeDiscord(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if discordSpecial(s[i]) || s[i] == '@' {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + n*len(zwsp))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case discordSpecial(c):
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '@':
			b.WriteByte(c)
			if defusedAt(s, i, s[i+1:]) {
				b.WriteString(zwsp)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// defusedAt reports whether the '@' at s[i], followed by rest, starts a mention that
// EscapeDiscord defuses.
func defusedAt(s string, i int, rest string) bool {
	return (i > 0 && s[i-1] == '<') || strings.HasPrefix(rest, "everyone") || strings.HasPrefix(rest, "here")
}

// unescapeDiscord undoes EscapeDiscord: it drops the backslashes and the zero-width
// spaces that EscapeDiscord puts in.
func unescapeDiscord(s string) string {
	if !strings.Contains(s, `\`) && !strings.Contains(s, zwsp) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && discordSpecial(s[i+1]):
			b.WriteByte(s[i+1])
			i++
		case c == '@' && strings.HasPrefix(s[i+1:], zwsp) && defusedAt(s, i, s[i+1+len(zwsp):]):
			b.WriteByte(c)
			i += len(zwsp)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
