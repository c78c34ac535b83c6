package obs

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestLoggerMasksSecrets(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"json", "text"} {
		var buf bytes.Buffer
		log := NewLogger(LogConfig{Format: format, Secrets: []string{"whsec_c2VjcmV0"}, Out: &buf})
		log.Info("sending to https://discord.com/api/webhooks/1/t0ken",
			"url", "https://hooks.slack.com/services/T/B/sl4ck",
			"err", errors.New(`post "https://example.com/h?token=q7": refused`),
			"secret", "whsec_c2VjcmV0")
		out := buf.String()
		for _, leak := range []string{"t0ken", "sl4ck", "q7", "whsec_c2VjcmV0"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s log leaked %q: %s", format, leak, out)
			}
		}
		if !strings.Contains(out, "hooks.slack.com") {
			t.Errorf("%s log lost the host: %s", format, out)
		}
	}
}
