package dispatch

import (
	"strings"
	"testing"
)

func TestDepthWithin(t *testing.T) {
	t.Parallel()
	cases := []struct {
		json  string
		limit int
		want  bool
	}{
		{`{}`, 1, true},
		{`{"a":{}}`, 1, false},
		{`{"a":[1,{"b":2}]}`, 3, true},
		{`{"a":[1,{"b":2}]}`, 2, false},
		{`[[[]],[[]]]`, 3, true},             // siblings do not add up
		{`{"s":"[[[[{{{{"}`, 1, true},        // brackets in strings do not count
		{`{"s":"\"[[[["}`, 1, true},          // nor after an escaped quote
		{`{"s":"\\","t":[[]]}`, 2, false},    // an escaped backslash ends before the quote
		{`{"s":"\\\"[[","t":[]}`, 2, true},   // three backslashes escape the quote
		{`{"k[":{"v{":"]]]]"}}`, 2, true},    // nor in keys
		{`{"s":"unterminated [[[[`, 1, true}, // malformed: the decoder reports it
		{strings.Repeat("[", 65) + strings.Repeat("]", 65), 64, false},
		{strings.Repeat("[", 64) + strings.Repeat("]", 64), 64, true},
	}
	for _, c := range cases {
		if got := depthWithin([]byte(c.json), c.limit); got != c.want {
			t.Errorf("depthWithin(%s, %d) = %v, want %v", c.json, c.limit, got, c.want)
		}
	}
}

func BenchmarkDepthWithin(b *testing.B) {
	body := []byte(`{"specversion":"1.0","id":"01JDQ5Z8X1Y2Z3A4B5C6D7E8F9","source":"billing","type":"payment.succeeded","time":"2026-11-28T09:30:00Z","datacontenttype":"application/json","data":{"tenant_name":"Acme","amount":12.5,"currency":"EUR","payment_id":"pay_1"},"tenantid":"acme","severity":"info"}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if !depthWithin(body, MaxJSONDepth) {
			b.Fatal("too deep")
		}
	}
}
