package render

import "os"

// The channels whose templates the render tests exercise: their real templates, read from
// the channels' packages, with the markups those packages declare.
const (
	ChannelDiscord = "discord"
	ChannelSlack   = "slack"
	ChannelEmail   = "email"
)

func testProfiles() []Profile {
	return []Profile{
		{Channel: ChannelDiscord, Templates: os.DirFS("../channel/discord/templates"), Markup: DiscordMarkdown},
		{Channel: ChannelSlack, Templates: os.DirFS("../channel/slack/templates"), Markup: SlackMrkdwn},
		{Channel: ChannelEmail, Templates: os.DirFS("../channel/email/templates"), Markup: PlainText, Layouts: true},
	}
}

// Default loads the test profiles.
func Default() *Set { return MustLoad(testProfiles()...) }

// Channels names the test profiles' channels.
func Channels() []string { return []string{ChannelDiscord, ChannelSlack, ChannelEmail} }

// escaperFor returns a test channel's escaper.
func escaperFor(channel string) escaper {
	for _, p := range testProfiles() {
		if p.Channel == channel {
			return p.Markup.escaper()
		}
	}
	return PlainText.escaper()
}
