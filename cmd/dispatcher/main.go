// Command dispatcher runs Herald's dispatcher: it validates, routes and fans out events from
// the EVENTS stream, and (unless NOTIFICATIONS_RECORDER_ENABLED=false) records every delivery
// attempt in the ledger. With NOTIFICATIONS_NATS_URL unset it also runs the embedded NATS
// server that the workers and the publisher CLI connect to.
//
//	dispatcher                  run until SIGINT or SIGTERM
//	dispatcher migrate          bring the ledger's schema up to date, say what was applied, and exit
//	dispatcher secrets rewrap   seal tenant destinations' secrets again under the first key
//	dispatcher env              print every NOTIFICATIONS_* variable with its default and meaning
//	dispatcher --help           what it runs, its arguments and exit codes
package main

import (
	"os"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
)

func main() {
	os.Exit(app.Main(app.Role{Name: "dispatcher", Dispatcher: true, EmbeddedNATS: true, Parts: parts.All()}, ":8080", os.Args[1:]))
}
