// Command natsauth issues Herald's NATS credentials (an nkey seed per role and the server's
// auth.conf) and a development cluster's TLS material:
//
//	go run ./internal/natsauth/cmd/natsauth init          # both, for docker-compose.yml's first start
//	go run ./internal/natsauth/cmd/natsauth credentials   # deploy/nats/creds/*.nk, deploy/nats/auth.conf
//	go run ./internal/natsauth/cmd/natsauth tls           # deploy/nats/tls/*.pem
//
// See docs/security.md.
package main

import (
	"os"

	"github.com/heraldhq/herald/internal/channel/all"
	"github.com/heraldhq/herald/internal/natsauth"
)

func main() {
	var channels []string
	for _, p := range all.Providers() {
		channels = append(channels, p.Name())
	}
	os.Exit(natsauth.Main(os.Args[1:], channels, os.Stdout, os.Stderr))
}
