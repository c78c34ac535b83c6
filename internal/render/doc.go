// Package render turns events into the words people read in Discord, Slack and email.
//
// A [Set] holds one text/template file per channel and event type, embedded under
// templates/<channel>/<event type>.tmpl, plus templates/<channel>/default.tmpl for custom
// types and, for email, the layouts templates/email/layout.html (html/template) and
// templates/email/layout.txt. [Load] lets operators replace any of them, or add one for a
// custom type, from a directory of the same layout, and checks every template by rendering
// it with the [Samples] at start, so that a broken template stops the process with an error
// naming its file and line instead of failing at send time.
//
// # Blocks
//
// A template file defines these blocks with {{define "name"}}...{{end}}; each block's output
// is trimmed of surrounding white space:
//
//   - title (required): the headline; it must not render empty.
//   - summary (required): the body text under the title.
//   - fields (optional): calls .Field for each field, in display order.
//   - footer (optional): defaults to "source · tenant · event id". On Discord it is
//     rendered with unescaped data, since Discord shows embed footers as plain text.
//   - subject (email only, optional): defaults to "[<severity>] <title>".
//
// Message.Text is the output of layout.txt for email and the title for Slack. The layouts
// see the Message (Title, Summary, Fields, Footer, Subject, Severity, Time, Type ...) and
// Color ("#rrggbb" for the severity), Tenant, Source and ID, with the functions lines,
// indent, upper and date.
//
// # The view
//
// The dot of every block is a *[View]: .ID, .Type, .Tenant, .Source, .Severity, .Time,
// .Channel and .Data, the payload: for a seed type the sdk's struct (.Data.Amount of an
// sdk.PaymentSucceeded; a misspelt field fails at Load), for any other type the decoded JSON
// (.Data.order_id; a missing key prints "<no value>", so guard it with default or with).
// A seed type's data is read with sdk.DecodeDataLenient ("93s" is 93 seconds, "49.99" a
// number); when a field cannot be interpreted at all, the event is rendered with
// default.tmpl and its data as published, so that nothing shows a wrong or blank value.
// Methods: .Field name value inline (appends a field, returns ""; blank values are
// dropped), .TypeTitle ("Order shipped" for order.shipped) and .Pairs (the top-level keys of
// a custom type's data, sorted, as Name, Key, Value and Inline).
//
// # Escaping
//
// Every string that comes from the event (attributes, payload strings, list elements, map
// values) is escaped for the channel before the template sees it; the template's own text
// is not, so templates write markup: **bold** on Discord, *bold* on Slack, plain text for
// email. Slack gets &amp; &lt; &gt; ([EscapeSlack]); Discord gets backslashes before
// markdown characters and a zero-width space that defuses @everyone, @here and <@id>
// ([EscapeDiscord]); email text is not escaped, and html/template escapes the HTML layout.
// Functions that change text (upper, lower, title, truncate, json) undo the escaping and
// redo it, so they never split an escape sequence.
//
// # Functions
//
// Data comes last in every function, so that it can be piped:
//
//	money amount currency   "$1,249.50", "€12.00", "£…"; "1,249.50 CHF"; "89.00" without currency
//	number n                "9,500", "4,210.75" (thousands separators, at most 2 decimals)
//	percent p               p in percent: "95%"; percent part whole: part/whole: "95%"
//	ratio a b               a/b as a multiple: "3.57×" ("—" when b is 0)
//	duration d              sdk.Seconds, time.Duration or seconds: "1m34s", "2m0s"
//	yesno b                 "yes" or "no"
//	plural n one many       one when n is 1, else many
//	join sep list           {{.Data.Issues | join ", "}}
//	default def v           v, or def when v is empty: {{.Data.Plan | default "free"}}
//	upper s, lower s, title s
//	truncate n s            at most n runes, ending in "…" when cut
//	json v                  compact JSON
//
// Besides these, text/template's own functions (printf, len, index, with, range, ...)
// are available.
package render
