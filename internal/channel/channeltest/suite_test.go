package channeltest_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/channel/channeltest"
)

// plain is the smallest honest HTTP channel: it posts the raw event and classifies the
// answer. Running the suite against it checks the suite itself, apart from any provider.
type plain struct{ client *http.Client }

func (plain) Name() string { return "plain" }

// plainConfig is the plain channel's configuration: a URL whose path holds a token.
type plainConfig struct{ URL string }

func (c *plainConfig) Validate() error {
	if c.URL == "" {
		return errors.Join(channel.ErrInvalidDestination, errors.New("url is required"))
	}
	return nil
}

func (c *plainConfig) Secrets() []string { return channel.SecretsOf(nil, nil, c.URL) }

func (plain) Validate(d channel.Destination) error {
	c, ok := d.Config.(*plainConfig)
	if !ok {
		return errors.Join(channel.ErrInvalidDestination, errors.New("not a plain configuration"))
	}
	return c.Validate()
}

func (p plain) Send(ctx context.Context, n channel.Notification) channel.Outcome {
	secrets := n.Destination.Secrets()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.Destination.Config.(*plainConfig).URL, bytes.NewReader(n.Raw))
	if err != nil {
		return channel.Fail(0, "build request")
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	return channel.Classify(resp, err, secrets...).Redacted(secrets...)
}

func TestSuiteAgainstPlainChannel(t *testing.T) {
	t.Parallel()
	const token = "plain-token-0123456789"
	channeltest.Run(t, channeltest.Harness{
		New: func(t testing.TB, baseURL string, _ *slog.Logger) (channel.Channel, channel.Destination) {
			return plain{client: channeltest.NewClient(t)}, channel.Destination{ID: "p", Channel: "plain", Config: &plainConfig{URL: baseURL + "/api/hooks/" + token}}
		},
		Secrets: []string{token},
		Check: func(r *http.Request, body []byte) error {
			if r.Header.Get("Content-Type") != "application/json" || len(body) == 0 {
				return errors.New("want a JSON body")
			}
			return nil
		},
	})
}
