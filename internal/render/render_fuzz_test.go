package render

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/sdk"
)

// fuzzSet is loaded once: loading parses and test-renders every template.
var fuzzSet = sync.OnceValue(Default)

// maxFuzzDepth mirrors the dispatcher's bound on nesting: deeper events never reach a
// renderer.
const maxFuzzDepth = 64

// FuzzRender: every event the dispatcher lets through (valid attributes, valid UTF-8, JSON
// data of any shape, for a seed type or any other) renders on every channel without an
// error and with a title, and no data reaches a channel's markup live: no Slack link,
// mention or broadcast, no Discord mention, no HTML element in an email.
func FuzzRender(f *testing.F) {
	for _, e := range Samples() {
		f.Add(e.Type, []byte(e.Data), e.TenantID, e.Source, e.ID, string(e.Severity))
	}
	f.Add(sdk.TypeNodeTerminated, []byte(`{"node_id":"<!channel> @everyone","time_remaining":"PT2M","reason":"<@U123>"}`), "acme", "s", "e1", "critical")
	f.Add(sdk.TypePaymentSucceeded, []byte(`{"amount":1e308,"currency":"<script>","payment_id":"*_~`+"`"+`|>"}`), "", "billing", "e2", "")
	f.Add(sdk.TypeRateLimitThresholdReached, []byte(`{"usage":-9223372036854775808,"limit":0,"threshold_percent":-1e-300}`), "t", "s", "e3", "info")
	f.Add(sdk.TypeNodeLaunched, []byte(`{"node_id":"n","gpu_count":"8","spot":"yes","launch_duration":"1h30m","price_per_hour":"-0"}`), "t", "s", "e4", "")
	f.Add(sdk.TypeNodeHealthDegraded, []byte(`{"node_id":"n","issues":[1,true,"<b>"],"health_score":"NaN"}`), "t", "s", "e5", "warning")
	f.Add(sdk.TypeCostAnomalyDetected, []byte(`null`), "t", "s", "e6", "")
	f.Add("a.b_c-d", []byte(`{"":"","<k>":{"@here":[null,{"x":"&amp;"}]},"n":123456789012345678901234567890}`), "t", "s", "e7", "")
	f.Add("x", []byte(`"just a string"`), "", "s", "e8", "")
	f.Add("x.y", []byte(`[[[["deep"]]]]`), "", "<s>", "e9", "")
	f.Add("x.y", []byte(nil), "", "s", "e10", "")

	f.Fuzz(func(t *testing.T, typ string, data []byte, tenant, source, id, severity string) {
		e := &sdk.Event{SpecVersion: sdk.SpecVersion, ID: id, Source: source, Type: typ, Time: SampleTime,
			Data: data, TenantID: tenant, Severity: sdk.Severity(severity)}
		if len(data) > 0 {
			e.DataContentType = sdk.ContentTypeJSON
		}
		// What the dispatcher refuses never reaches a renderer.
		if e.Validate() != nil || !utf8.ValidString(source) || !utf8.ValidString(id) || !utf8.Valid(data) ||
			depth(data) > maxFuzzDepth-1 {
			return
		}
		for _, ch := range Channels() {
			m, err := fuzzSet().Render(ch, e)
			if err != nil {
				t.Fatalf("render %s for %s: %v\nevent: %s", typ, ch, err, encode(e))
			}
			if m.Title == "" {
				t.Fatalf("render %s for %s: empty title\nevent: %s", typ, ch, encode(e))
			}
			shown := []string{m.Title, m.Summary, m.Text}
			for _, fl := range m.Fields {
				shown = append(shown, fl.Name, fl.Value)
			}
			switch ch {
			case ChannelSlack:
				// Slack's templates write no < or >: any there would be data forming a
				// link, a mention or a broadcast.
				for _, s := range append(shown, m.Footer) {
					if strings.ContainsAny(s, "<>") {
						t.Fatalf("slack: %q holds a live < or >\nevent: %s", s, encode(e))
					}
				}
			case ChannelDiscord:
				// The footer is shown as plain text and pings no one.
				for _, s := range shown {
					if strings.Contains(s, "@everyone") || strings.Contains(s, "@here") ||
						strings.Count(s, "<@") != strings.Count(s, "<@"+zwsp) {
						t.Fatalf("discord: %q holds a live mention\nevent: %s", s, encode(e))
					}
				}
			case ChannelEmail:
				if m.Subject == "" || m.HTML == "" || m.Text == "" {
					t.Fatalf("email: empty subject, HTML or text part\nevent: %s", encode(e))
				}
				if strings.Contains(strings.ToLower(m.HTML), "<script") || strings.Contains(m.HTML, "<b>") {
					t.Fatalf("email: data became HTML markup\nevent: %s", encode(e))
				}
			}
		}
	})
}

// depth returns how deeply a JSON document nests arrays and objects.
func depth(data []byte) int {
	d, deepest, inString, escaped := 0, 0, false, false
	for _, c := range data {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			d++
			deepest = max(deepest, d)
		case c == ']' || c == '}':
			d--
		}
	}
	return deepest
}

// encode shows an event as it would be published, for a failure message.
func encode(e *sdk.Event) string {
	b, err := json.Marshal(e)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
