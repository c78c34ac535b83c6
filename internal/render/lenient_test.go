package render

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/sdk"
)

// TestRenderLenientData: a seed type's field written in another reasonable spelling renders
// with the type's own layout, on every channel; a field that cannot be interpreted falls
// back to the generic layout, which shows the data as published, and never fails.
func TestRenderLenientData(t *testing.T) {
	t.Parallel()
	s := Default()
	cases := []struct {
		name, data string
		generic    bool
		want       []string // values the fields must show (unescaped)
	}{
		{"seconds", `{"node_id":"node-7f3a","time_remaining":120,"reason":"spot"}`, false, []string{"node-7f3a", "2m0s"}},
		{"Go duration", `{"node_id":"node-7f3a","time_remaining":"93s","reason":"spot"}`, false, []string{"node-7f3a", "1m33s"}},
		{"ISO 8601", `{"node_id":"node-7f3a","time_remaining":"PT2M","reason":"spot"}`, false, []string{"node-7f3a", "2m0s"}},
		{"2m", `{"node_id":"node-7f3a","time_remaining":"2m","reason":"spot"}`, false, []string{"node-7f3a", "2m0s"}},
		{"uninterpretable", `{"node_id":"node-7f3a","time_remaining":"soon","reason":"spot"}`, true, []string{"node-7f3a", "soon", "spot"}},
	}
	for _, tc := range cases {
		for _, ch := range Channels() {
			t.Run(tc.name+"/"+ch, func(t *testing.T) {
				t.Parallel()
				e := *sample(t, sdk.TypeNodeTerminated)
				e.Data = json.RawMessage(tc.data)
				m, err := s.Render(ch, &e)
				if err != nil {
					t.Fatal(err)
				}
				want := ch + "/" + sdk.TypeNodeTerminated + ".tmpl"
				if tc.generic {
					want = ch + "/default.tmpl"
				}
				if m.Template != want {
					t.Errorf("template %q, want %q", m.Template, want)
				}
				var fields strings.Builder
				for _, f := range m.Fields {
					fields.WriteString(f.Value + "\n")
				}
				esc := escaperFor(ch).esc
				for _, v := range tc.want {
					if !strings.Contains(fields.String(), esc(v)) {
						t.Errorf("fields %q lack %q", fields.String(), esc(v))
					}
				}
				if !strings.Contains(m.Footer, e.ID) {
					t.Errorf("footer %q lacks the event id", m.Footer)
				}
			})
		}
	}
}
