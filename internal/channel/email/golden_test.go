package email_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/channel/email"
	"github.com/heraldhq/herald/internal/render"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestGolden pins the exact Resend request body (<type>.json), HTML and text parts included,
// of every render sample; the HTML documents alone are pinned by internal/render's golden
// files. Regenerate with: go test ./internal/channel/email -update
func TestGolden(t *testing.T) {
	t.Parallel()
	d := email.Destination("ops-mail", &email.Config{ResendAPIKey: "re_golden_0123456789abcdef", From: testFrom, To: []string{testTo}})
	ch := email.New(nil, nil)
	dir := filepath.Join("testdata", "golden")
	for _, ev := range render.Samples() {
		p, err := ch.Preview(notify(t, d, ev))
		if err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		for _, f := range []struct {
			name string
			got  []byte
		}{{ev.Type + ".json", append(append([]byte(nil), p.Body...), '\n')}} {
			path := filepath.Join(dir, f.name)
			if *update {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, f.got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/channel/email -update)", err)
			}
			if string(want) != string(f.got) {
				t.Errorf("%s differs from the golden file; if the change is meant, run go test ./internal/channel/email -update\n got: %.400s\nwant: %.400s",
					path, f.got, want)
			}
		}
	}
}
