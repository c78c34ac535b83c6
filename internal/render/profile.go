package render

import "io/fs"

// Profile is how one channel's messages are rendered: its templates and its markup. Each
// channel's package declares its own, so that the render package names no channel.
type Profile struct {
	// Channel is the channel's name, which is also its directory in an operator's templates
	// directory.
	Channel string
	// Templates holds, at its root, one <event type>.tmpl per seed type, default.tmpl for
	// every other type and, when Layouts is set, layout.html and layout.txt.
	Templates fs.FS
	// Markup is how event data is escaped for the channel.
	Markup Markup
	// Layouts makes the channel's messages full documents: a subject block, and an HTML and
	// a text version from the layouts (email). Without layouts, Message.Text is the title.
	Layouts bool
}

// Markup is how a channel's markup escapes event data, so that the data cannot format,
// link or mention: Escape makes a string safe, Unescape undoes it for the template functions
// that must see the original text (upper, truncate, json ...).
type Markup struct {
	// Escape makes s safe for the markup; nil leaves data as it is (plain text).
	Escape func(s string) string
	// Unescape undoes Escape; required with it.
	Unescape func(s string) string
	// PlainFooter is set where the channel shows the footer as plain text, so that escaping
	// it would print the escape characters.
	PlainFooter bool
}

// The markups of the channels whose escaping lives here, next to its tests.
var (
	// PlainText leaves event data as it is.
	PlainText = Markup{}
	// DiscordMarkdown backslash-escapes Discord's markdown and defuses mentions; embed
	// footers do not render markdown.
	// https://discord.com/developers/docs/resources/message#embed-object
	DiscordMarkdown = Markup{Escape: EscapeDiscord, Unescape: unescapeDiscord, PlainFooter: true}
	// SlackMrkdwn turns & < > into entities.
	SlackMrkdwn = Markup{Escape: EscapeSlack, Unescape: unescapeSlack}
)

func (m Markup) escaper() escaper {
	if m.Escape == nil || m.Unescape == nil {
		return escaper{esc: identity, unesc: identity, plainFooter: m.PlainFooter, none: true}
	}
	return escaper{esc: m.Escape, unesc: m.Unescape, plainFooter: m.PlainFooter}
}
