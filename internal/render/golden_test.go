package render

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestGolden compares the Message of every sample on every channel with
// testdata/<channel>/<type>.json (and .html for the email's HTML). Regenerate with
// go test ./internal/render -update, and review the diff.
func TestGolden(t *testing.T) {
	s := Default()
	for _, ch := range Channels() {
		for _, e := range Samples() {
			t.Run(ch+"/"+e.Type, func(t *testing.T) {
				m, err := s.Render(ch, e)
				if err != nil {
					t.Fatal(err)
				}
				html := m.HTML
				m.HTML = "" // kept in its own file, to be read and opened in a browser
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(m); err != nil {
					t.Fatal(err)
				}
				base := filepath.Join("testdata", ch, e.Type)
				compareGolden(t, base+".json", buf.Bytes())
				if ch == ChannelEmail {
					compareGolden(t, base+".html", []byte(html))
				}
			})
		}
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./internal/render -update and review the diff):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}
