package main

import (
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/internal/natsauth"
)

// connection is where and how publish connects, from the environment. Without
// NOTIFICATIONS_NATS_URL it reaches the single-machine fleet's embedded server at
// NOTIFICATIONS_EMBEDDED_NATS_ADDR as the producer, with the seed that herald wrote into
// the data directory (NOTIFICATIONS_DATA_DIR/nats-credentials/producer.nk), unless
// NOTIFICATIONS_NATS_CREDS names other credentials.
func connection(getenv func(string) string) (string, []nats.Option, error) {
	url := envOr(getenv, "NOTIFICATIONS_NATS_URL", "")
	opts, err := natsauth.ClientFor(url, envOr(getenv, "NOTIFICATIONS_DATA_DIR", "data"), natsauth.Role{Kind: natsauth.Producer},
		natsauth.Client{
			Creds: strings.TrimSpace(getenv("NOTIFICATIONS_NATS_CREDS")),
			CA:    strings.TrimSpace(getenv("NOTIFICATIONS_NATS_TLS_CA")),
			Cert:  strings.TrimSpace(getenv("NOTIFICATIONS_NATS_TLS_CERT")),
			Key:   strings.TrimSpace(getenv("NOTIFICATIONS_NATS_TLS_KEY")),
		})
	if url == "" {
		url = "nats://" + envOr(getenv, "NOTIFICATIONS_EMBEDDED_NATS_ADDR", defaultNATSAddr)
	}
	return url, opts, err
}
