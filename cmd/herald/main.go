// Command herald runs the whole fleet in one process: the embedded NATS server (unless
// NOTIFICATIONS_NATS_URL names one), the dispatcher, the recorder and a worker for every
// channel that has a destination. It is the single-machine default; the same parts scale out
// as the dispatcher and channel-worker commands.
//
//	herald                  run until SIGINT or SIGTERM
//	herald migrate          bring the ledger's schema up to date, say what was applied, and exit
//	herald secrets rewrap   seal tenant destinations' secrets again under the first key
//	herald env              print every NOTIFICATIONS_* variable with its default and meaning
//	herald --help           what it runs, its arguments and exit codes
package main

import (
	"os"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
)

func main() {
	os.Exit(app.Main(app.Role{Name: "herald", Dispatcher: true, Channels: []string{"all"}, EmbeddedNATS: true, Parts: parts.All()}, ":8080", os.Args[1:]))
}
