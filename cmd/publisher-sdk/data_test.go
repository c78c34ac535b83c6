package main

import (
	"strings"
	"testing"
)

func TestParseData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pairs []string
		want  string
		err   string
	}{
		{name: "none", pairs: nil, want: ""},
		{name: "string", pairs: []string{"reason=card declined"}, want: `{"reason":"card declined"}`},
		{name: "numbers stay numbers", pairs: []string{"amount=49.99", "count=8", "neg=-3", "exp=1e3"},
			want: `{"amount":49.99,"count":8,"exp":1e3,"neg":-3}`},
		{name: "bools and null", pairs: []string{"spot=true", "paid=false", "gone=null"},
			want: `{"gone":null,"paid":false,"spot":true}`},
		{name: "arrays and objects", pairs: []string{`issues=["ecc", "nvlink"]`, `meta={"a": 1}`},
			want: `{"issues":["ecc","nvlink"],"meta":{"a":1}}`},
		{name: "quoted forces a string", pairs: []string{`payment_id="12345"`}, want: `{"payment_id":"12345"}`},
		{name: "not quite JSON is a string", pairs: []string{"id=0123", "v=1.2.3", "w=True", "x=+1", "y=[1,", "z=NaN"},
			want: `{"id":"0123","v":"1.2.3","w":"True","x":"+1","y":"[1,","z":"NaN"}`},
		{name: "empty value", pairs: []string{"note="}, want: `{"note":""}`},
		{name: "value with equals", pairs: []string{"query=a=b"}, want: `{"query":"a=b"}`},
		{name: "spaces kept in strings", pairs: []string{"name= Acme "}, want: `{"name":" Acme "}`},
		{name: "unicode", pairs: []string{"name=Zoë <b>"}, want: `{"name":"Zoë \u003cb\u003e"}`},
		{name: "missing equals", pairs: []string{"reason"}, err: "not key=value"},
		{name: "flag after data", pairs: []string{"a=1", "--json"}, err: "flags go before the data"},
		{name: "empty key", pairs: []string{"=1"}, err: "empty key"},
		{name: "duplicate key", pairs: []string{"a=1", "a=2"}, err: "given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseData(tc.pairs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("parseData(%q) = %s, want %s", tc.pairs, got, tc.want)
			}
		})
	}
}

func TestRedactURLs(t *testing.T) {
	t.Parallel()
	got := redactURLs("nats://alice:s3cret@n1:4222, nats://tok3n@n2:4222,nats://n3:4222")
	if strings.Contains(got, "s3cret") || strings.Contains(got, "tok3n") || strings.Contains(got, "alice") {
		t.Errorf("credentials leak: %s", got)
	}
	if !strings.Contains(got, "n3:4222") || !strings.Contains(got, "REDACTED@n1:4222") {
		t.Errorf("redacted too much: %s", got)
	}
}
