package render

import (
	"encoding/json"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/heraldhq/herald/sdk"
)

func TestFuncs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  func() (string, error)
		want string
	}{
		{"money USD", func() (string, error) { return money(1249.5, "USD") }, "$1,249.50"},
		{"money EUR lower case", func() (string, error) { return money(12, "eur") }, "€12.00"},
		{"money GBP millions", func() (string, error) { return money(1234567.891, "GBP") }, "£1,234,567.89"},
		{"money other", func() (string, error) { return money(1249.5, "CHF") }, "1,249.50 CHF"},
		{"money none", func() (string, error) { return money(89, "") }, "89.00"},
		{"money negative", func() (string, error) { return money(-5, "USD") }, "-$5.00"},
		{"money json.Number", func() (string, error) { return money(json.Number("10.5"), "USD") }, "$10.50"},
		{"number int", func() (string, error) { return number(int64(9500)) }, "9,500"},
		{"number small", func() (string, error) { return number(42) }, "42"},
		{"number float", func() (string, error) { return number(4210.754) }, "4,210.75"},
		{"number fraction", func() (string, error) { return number(0.4) }, "0.4"},
		{"number negative", func() (string, error) { return number(-1234567.5) }, "-1,234,567.5"},
		{"number big json", func() (string, error) { return number(json.Number("12345678901234567")) }, "12,345,678,901,234,567"},
		{"percent", func() (string, error) { return percent(95.0) }, "95%"},
		{"percent of", func() (string, error) { return percent(int64(9500), int64(10000)) }, "95%"},
		{"percent decimal", func() (string, error) { return percent(1, 3) }, "33.3%"},
		{"percent of zero", func() (string, error) { return percent(1, 0) }, "—"},
		{"ratio", func() (string, error) { return ratio(4210.75, 1180.2) }, "3.57×"},
		{"ratio whole", func() (string, error) { return ratio(10, 5) }, "2×"},
		{"ratio by zero", func() (string, error) { return ratio(1, 0.0) }, "—"},
		{"duration seconds", func() (string, error) { return duration(sdk.SecondsOf(94 * time.Second)) }, "1m34s"},
		{"duration two minutes", func() (string, error) { return duration(sdk.Seconds(120)) }, "2m0s"},
		{"duration go", func() (string, error) { return duration(1500 * time.Millisecond) }, "1.5s"},
		{"duration number", func() (string, error) { return duration(json.Number("90.5")) }, "1m30.5s"},
		{"duration rounds", func() (string, error) { return duration(sdk.Seconds(0.1 + 0.2)) }, "300ms"},
		{"yesno", func() (string, error) { return yesno(true) + "/" + yesno(false), nil }, "yes/no"},
		{"plural one", func() (string, error) { return plural(1, "issue", "issues") }, "issue"},
		{"plural many", func() (string, error) { return plural(2, "issue", "issues") }, "issues"},
		{"join strings", func() (string, error) { return join(", ", []string{"a", "b"}) }, "a, b"},
		{"join any", func() (string, error) { return join("/", []any{"a", json.Number("1"), true}) }, "a/1/true"},
		{"join nil", func() (string, error) { return join(", ", nil) }, ""},
		{"default empty", func() (string, error) { return dflt("x", "").(string), nil }, "x"},
		{"default nil", func() (string, error) { return dflt("x", nil).(string), nil }, "x"},
		{"default set", func() (string, error) { return dflt("x", "y").(string), nil }, "y"},
		{"title", func() (string, error) { return title("pro plan  x"), nil }, "Pro Plan  X"},
		{"truncate short", func() (string, error) { return truncate(5, "héllo"), nil }, "héllo"},
		{"truncate long", func() (string, error) { return truncate(5, "héllo world"), nil }, "héll…"},
		{"truncate at space", func() (string, error) { return truncate(7, "hello world"), nil }, "hello…"},
		{"humanize", func() (string, error) {
			return humanize("tracking_url") + "|" + humanize("order.shipped") + "|" + humanize("id"), nil
		}, "Tracking URL|Order shipped|ID"},
	}
	for _, tt := range tests {
		got, err := tt.got()
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, got, tt.want)
		}
	}
	for _, bad := range []func() (string, error){
		func() (string, error) { return money("lots", "USD") },
		func() (string, error) { return number(struct{}{}) },
		func() (string, error) { return percent(1, 2, 3) },
		func() (string, error) { return duration(true) },
		func() (string, error) { return join(",", 3) },
	} {
		if got, err := bad(); err == nil {
			t.Errorf("no error, got %q", got)
		}
	}
}

// TestChannelFuncs checks that functions which change text keep the channel's escaping
// intact.
func TestChannelFuncs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		channel, tmpl string
		data          any
		want          string
	}{
		{ChannelSlack, `{{upper .}}`, EscapeSlack("a&b <x>"), "A&amp;B &lt;X&gt;"},
		{ChannelSlack, `{{truncate 3 .}}`, EscapeSlack("a&bc"), "a&amp;…"},
		{ChannelDiscord, `{{truncate 3 .}}`, EscapeDiscord("a_bc"), `a\_…`},
		{ChannelDiscord, `{{title .}}`, EscapeDiscord("_x_ y"), `\_x\_ Y`},
		{ChannelDiscord, `{{lower .}}`, EscapeDiscord("@EVERYONE"), "@" + zwsp + "everyone"},
		{ChannelDiscord, `{{json .}}`, escapeData(map[string]any{"k": `a_b\c`}, EscapeDiscord), `{"k":"a\_b\\\\c"}`},
		{ChannelSlack, `{{json .}}`, escapeData([]any{"<b>"}, EscapeSlack), `["&lt;b&gt;"]`},
		{ChannelEmail, `{{json .}}`, sdk.TenantCreated{Name: "<Acme>"}, `{"name":"<Acme>","email":"","billing_plan":""}`},
	}
	for _, tt := range tests {
		tm := template.Must(template.New("t").Funcs(funcs(escaperFor(tt.channel))).Parse(tt.tmpl))
		var b strings.Builder
		if err := tm.Execute(&b, tt.data); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s %s = %q, want %q", tt.channel, tt.tmpl, b.String(), tt.want)
		}
	}
}
