package channel_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/heraldhq/herald/internal/channel"
)

func TestUTF16Len(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]int{"": 0, "abc": 3, "é日": 2, "🔥": 2, "👩‍👩‍👧": 8, "\xff": 1, "a\xed\xa0\x80": 4} {
		if got := channel.UTF16Len(s); got != want {
			t.Errorf("UTF16Len(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestCutUTF16(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in     string
		max    int
		marker string
		want   string
	}{
		{"hello", 5, "…", "hello"},
		{"hello world", 6, "…", "hello…"},
		{"hello world", 8, "...", "hello..."},
		{"🔥🔥🔥", 4, "…", "🔥…"},
		{"🔥🔥🔥", 5, "…", "🔥🔥…"},
		{"ab \u200dcd", 4, "…", "ab…"},
		{"a\u200d🔥 bcdef", 5, "…", "a\u200d🔥…"},
		{"abcdef", 2, "...", "..."},
		{"\xff\xff\xff", 2, "…", "\xff…"},
	}
	for _, c := range cases {
		got := channel.CutUTF16(c.in, c.max, c.marker)
		if got != c.want {
			t.Errorf("CutUTF16(%q, %d, %q) = %q, want %q", c.in, c.max, c.marker, got, c.want)
		}
		if n := channel.UTF16Len(got); n > max(c.max, channel.UTF16Len(c.marker)) {
			t.Errorf("CutUTF16(%q, %d) is %d units long", c.in, c.max, n)
		}
	}
	if got := channel.UTF16Prefix("a🔥b", 2); got != 1 {
		t.Errorf("UTF16Prefix splits the emoji: %d", got)
	}
	if got := channel.UTF16Prefix("a🔥b", 10); got != len("a🔥b") {
		t.Errorf("UTF16Prefix of a text that fits = %d", got)
	}
	if got := channel.UTF16Prefix("abc", -1); got != 0 {
		t.Errorf("UTF16Prefix within a negative budget = %d", got)
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"plain text\n\twith tabs":      "plain text\n\twith tabs",
		"a\x00b\x1b[31mc\x7f":          "ab[31mc",
		"line\u2028sep\u2029par\u0085": "line\nsep\npar\n",
		"crlf\r\n":                     "crlf\n",
		"c1 \u0090 alone":              "c1  alone",
		"invalid \xff\xfe":             "invalid \uFFFD",
		"emoji 🔥 and 日本":               "emoji 🔥 and 日本",
	}
	for in, want := range cases {
		got := channel.Clean(in)
		if got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
		if !utf8.ValidString(got) || strings.ContainsAny(got, "\x00\r\u2028") {
			t.Errorf("Clean(%q) = %q keeps what it should drop", in, got)
		}
	}
	if got := channel.TrimEnd("word \t\u200d\n"); got != "word" {
		t.Errorf("TrimEnd = %q", got)
	}
}
