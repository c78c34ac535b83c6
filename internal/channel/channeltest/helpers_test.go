package channeltest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
	"github.com/heraldhq/herald/internal/render"
)

// recorder is a testing.TB that keeps what a helper reports instead of failing the test, so
// that a test can check that the helper fails, and how.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

// Fatalf records like Errorf; the helpers under test return after it.
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatal(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func TestSampleNotifications(t *testing.T) {
	t.Parallel()
	d := channel.Destination{ID: "dest", Channel: "plain"}
	samples := render.Samples()
	for _, i := range []int{0, 3, len(samples), len(samples) + 3} {
		n := channeltest.Sample(d, i)
		ev := samples[i%len(samples)]
		if n.Event.ID != ev.ID || n.DeliveryID != ev.ID+":dest" || n.Attempt != 1 || n.Destination.ID != "dest" || n.Raw != nil {
			t.Errorf("Sample(%d) = %+v", i, n)
		}
	}
	ev := channeltest.SampleOf(t, "payment.failed")
	if ev.Type != "payment.failed" {
		t.Fatalf("SampleOf(payment.failed) = %s", ev.Type)
	}
	n := channeltest.NotifyRaw(t, d, ev)
	var back struct{ ID, Type string }
	if err := json.Unmarshal(n.Raw, &back); err != nil || back.ID != ev.ID || back.Type != ev.Type || n.DeliveryID != ev.ID+":dest" {
		t.Errorf("NotifyRaw: %+v, raw %s (%v)", n, n.Raw, err)
	}
	r := &recorder{TB: t}
	if ev := channeltest.SampleOf(r, "no.such.type"); ev != nil || len(r.failures) != 1 {
		t.Errorf("SampleOf of an unknown type = %v, failures %q", ev, r.failures)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "golden", "x.json")
	body := []byte(`{"a":[1,2],"b":"c d"}`)

	r := &recorder{TB: t}
	channeltest.GoldenJSON(r, path, body, false)
	if len(r.failures) != 1 || !strings.Contains(r.failures[0], "-update)") || !strings.Contains(r.failures[0], "./internal/channel/channeltest") {
		t.Fatalf("a missing golden file gave %q, want one failure telling how to write it", r.failures)
	}

	r = &recorder{TB: t}
	want := channeltest.GoldenJSON(r, path, body, true)
	if len(r.failures) != 0 {
		t.Fatalf("update failed: %q", r.failures)
	}
	if on, _ := os.ReadFile(path); string(on) != string(want) || string(want) != "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": \"c d\"\n}\n" {
		t.Fatalf("golden file holds %q, returned %q", on, want)
	}
	channeltest.GoldenJSON(r, path, []byte(`{"a": [1, 2], "b": "c d"}`), false) // white space apart, equal
	if len(r.failures) != 0 {
		t.Fatalf("an equal body failed: %q", r.failures)
	}

	channeltest.GoldenJSON(r, path, []byte(`{"a":[1,2],"b":"c  d"}`), false)
	if len(r.failures) != 1 || !strings.Contains(r.failures[0], "differs from the golden file") {
		t.Fatalf("a changed body gave %q, want one difference", r.failures)
	}
	channeltest.GoldenJSON(r, path, []byte(`{"a":`), false)
	if len(r.failures) != 2 || !strings.Contains(r.failures[1], "not JSON") {
		t.Fatalf("a broken body gave %q", r.failures)
	}

	channeltest.CheckCompactJSON(r, body)
	channeltest.CheckCompactJSON(r, []byte(`{"a": 1}`))
	if len(r.failures) != 3 || !strings.Contains(r.failures[2], "not compact") {
		t.Fatalf("CheckCompactJSON: %q, want one failure, for the spaced body", r.failures)
	}
}

// TestBigMessageIsBigAndHostile checks that the generator makes what the property tests
// count on: texts of 10 kB and more, 40 fields and more, and every kind of hostile piece.
func TestBigMessageIsBigAndHostile(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 8))
	var longest, most int
	var all strings.Builder
	for range 200 {
		m := channeltest.BigMessage(r, "x", 3000)
		if m.Channel != "x" {
			t.Fatalf("Channel = %q", m.Channel)
		}
		for _, s := range []string{m.Title, m.Summary, m.Footer, m.Text} {
			longest = max(longest, len(s))
			all.WriteString(s)
		}
		for _, f := range m.Fields {
			longest = max(longest, len(f.Value))
		}
		most = max(most, len(m.Fields))
	}
	if longest < 10_000 || most < 40 {
		t.Errorf("longest text %d bytes, most fields %d; want 10 kB and 40 or more", longest, most)
	}
	s := all.String()
	for _, want := range []string{"🔥", "\u202e", "שלום", "<b>", "**strong**", "<!channel>", "[x](https://evil.example)", "{{DATE(", "\xff"} {
		if !strings.Contains(s, want) {
			t.Errorf("no %q in 200 big messages", want)
		}
	}
	if utf8.ValidString(s) {
		t.Error("no invalid UTF-8 in 200 big messages")
	}
}

func TestHostileEventIsValid(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(9, 10))
	types := map[string]bool{}
	longest := 0
	for range 100 {
		ev := channeltest.HostileEvent(t, r)
		if err := ev.Validate(); err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		types[ev.Type] = true
		longest = max(longest, len(ev.Data))
	}
	if len(types) < 6 || longest < 10_000 {
		t.Errorf("types %v, longest data %d bytes; want every type and 10 kB", types, longest)
	}
}

func TestFuzzEventAndGrow(t *testing.T) {
	t.Parallel()
	ev := channeltest.FuzzEvent(t, "card declined", "acme", "v", 2, 3)
	if ev.Type != "payment.failed" || !strings.Contains(string(ev.Data), `"reason":"card declined"`) {
		t.Errorf("even nfields: %s %s", ev.Type, ev.Data)
	}
	ev = channeltest.FuzzEvent(t, "", "k", "vv", 5, 20_000)
	var data map[string]string
	if err := json.Unmarshal(ev.Data, &data); err != nil || ev.Type != "order.shipped" || len(data) != 5 || data["k0"] != "vv" || data["k2"] != "vvvvvv" {
		t.Errorf("odd nfields: %s %s (%v)", ev.Type, ev.Data, err)
	}
	if g := channeltest.Grow("abc", 10); len(g) < 10 || strings.Trim(g, "abc") != "" || channeltest.Grow("", 10) != "" {
		t.Errorf("Grow(abc, 10) = %q", g)
	}
}

// strict is a channel whose Validate refuses every destination with a FieldError for "url"
// that quotes the destination's secret when leaky is set, and whose Send answers Permanent.
type strict struct{ leaky bool }

func (strict) Name() string { return "strict" }

func (s strict) Validate(d channel.Destination) error {
	msg := "url is wrong"
	if s.leaky {
		msg += ": " + d.ID
	}
	return errors.Join(channel.ErrInvalidDestination, &channel.FieldError{Field: "url", Err: errors.New(msg)})
}

func (strict) Send(context.Context, channel.Notification) channel.Outcome {
	return channel.Fail(0, "invalid destination")
}

func TestCheckValidate(t *testing.T) {
	t.Parallel()
	d := channel.Destination{ID: "s3cr3t-id", Channel: "strict"}
	r := &recorder{TB: t}
	channeltest.CheckValidate(r, strict{}, d, "url", "s3cr3t")
	if len(r.failures) != 0 {
		t.Errorf("a well-refused destination failed: %q", r.failures)
	}
	for name, c := range map[string]struct {
		ch    channel.Channel
		field string
		want  string
	}{
		"accepted":      {strict{}, "", "want nil"},
		"wrong field":   {strict{}, "to", "want ErrInvalidDestination with a to FieldError"},
		"leaky error":   {strict{leaky: true}, "url", "leaks a secret"},
		"no FieldError": {plain{}, "url", "want ErrInvalidDestination"},
	} {
		r := &recorder{TB: t}
		dest := d
		if _, ok := c.ch.(plain); ok {
			dest = channel.Destination{ID: "p", Channel: "plain", Config: &plainConfig{}}
		}
		channeltest.CheckValidate(r, c.ch, dest, c.field, "s3cr3t")
		if len(r.failures) == 0 || !strings.Contains(r.failures[0], c.want) {
			t.Errorf("%s: failures %q, want one saying %q", name, r.failures, c.want)
		}
	}

	r = &recorder{TB: t}
	channeltest.CheckNoSecrets(r, "reason", "HTTP 400: token abc123 refused", "", "zzz", "abc123")
	if len(r.failures) != 1 || !strings.Contains(r.failures[0], `reason "HTTP 400: token abc123 refused" leaks "abc123"`) {
		t.Errorf("CheckNoSecrets: %q", r.failures)
	}
}

// previewing is a channel whose previews say "body" and "text" whatever the notification,
// and whose sends are all delivered.
type previewing struct{ strict }

func (previewing) Send(context.Context, channel.Notification) channel.Outcome {
	return channel.Sent(200)
}

func (previewing) Preview(channel.Notification) (channel.Preview, error) {
	return channel.Preview{ContentType: "text/plain", Body: []byte("body"), Text: "text"}, nil
}

func TestCheckPreviewIsWhatSendPosts(t *testing.T) {
	t.Parallel()
	d := channel.Destination{ID: "d", Channel: "strict"}
	r := &recorder{TB: t}
	checked := 0
	channeltest.CheckPreviewIsWhatSendPosts(r, previewing{}, d, "text/plain", func() []byte { return []byte("body") },
		func(channel.Notification, channel.Preview) { checked++ })
	if checked != len(render.Samples()) || len(r.failures) != 1 || !strings.Contains(r.failures[0], "without an event succeeded") {
		t.Errorf("checked %d previews, failures %q; want every sample checked and one failure, for the preview without an event", checked, r.failures)
	}
	r = &recorder{TB: t}
	channeltest.CheckPreviewIsWhatSendPosts(r, previewing{}, d, "text/plain", func() []byte { return []byte("other") }, nil)
	if len(r.failures) == 0 || !strings.Contains(r.failures[0], "differs from the posted body") {
		t.Errorf("a preview unlike the posted body gave %q", r.failures)
	}
}

func TestSendPastLimit(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	channeltest.SendPastLimit(r, previewing{}, channel.Destination{ID: "d", Channel: "strict"})
	if len(r.failures) != 1 || !strings.Contains(r.failures[0], "want retry 429") {
		t.Errorf("a channel that is never limited gave %q", r.failures)
	}
}
