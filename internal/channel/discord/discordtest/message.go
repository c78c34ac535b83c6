package discordtest

import (
	"net/http"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	// ID is the message's snowflake id, as returned with ?wait=true.
	ID string
	// WebhookID and ChannelID say where it was posted.
	WebhookID, ChannelID string
	// Content, Username and Embeds are the decoded request fields.
	Content  string
	Username string
	Embeds   []Embed
	// AllowedMentions is the request's allowed_mentions, nil if it had none.
	AllowedMentions *AllowedMentions
	// Wait reports whether the request asked for the message back (?wait=true).
	Wait bool
	// Header and Body are the request as received.
	Header http.Header
	Body   []byte
	// Time is when the server accepted it.
	Time time.Time
}

// AllowedMentions is a message's allowed_mentions object.
// https://discord.com/developers/docs/resources/message#allowed-mentions-object
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	Roles       []string `json:"roles,omitempty"`
	Users       []string `json:"users,omitempty"`
	RepliedUser bool     `json:"replied_user,omitempty"`
}

// Embed is a decoded embed object.
// https://discord.com/developers/docs/resources/message#embed-object
type Embed struct {
	Title       string  `json:"title,omitempty"`
	Type        string  `json:"type,omitempty"`
	Description string  `json:"description,omitempty"`
	URL         string  `json:"url,omitempty"`
	Timestamp   string  `json:"timestamp,omitempty"`
	Color       *int    `json:"color,omitempty"`
	Footer      *Footer `json:"footer,omitempty"`
	Image       *Media  `json:"image,omitempty"`
	Thumbnail   *Media  `json:"thumbnail,omitempty"`
	Author      *Author `json:"author,omitempty"`
	Fields      []Field `json:"fields,omitempty"`
}

// Footer is an embed's footer.
type Footer struct {
	Text    string `json:"text"`
	IconURL string `json:"icon_url,omitempty"`
}

// Media is an embed's image or thumbnail.
type Media struct {
	URL string `json:"url"`
}

// Author is an embed's author.
type Author struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	IconURL string `json:"icon_url,omitempty"`
}

// Field is one embed field.
type Field struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Inline bool   `json:"inline,omitempty"`
}

// Rejection is one request the server refused by its own rules (not by a Hook or a canned
// response).
type Rejection struct {
	// Err is the refusal as answered: status, Discord code, message and field problems.
	Err *APIError
	// Path is the request path with the token masked.
	Path string
	// Body is the request body as received.
	Body []byte
	// Time is when the server refused it.
	Time time.Time
}
