package email_test

import (
	"flag"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/channel/channeltest"
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
		p, err := ch.Preview(channeltest.NotifyRaw(t, d, ev))
		if err != nil {
			t.Fatalf("%s: %v", ev.Type, err)
		}
		channeltest.Golden(t, filepath.Join(dir, ev.Type+".json"), append(append([]byte(nil), p.Body...), '\n'), *update)
	}
}
