// Command channel-worker delivers one channel's notifications (or several, or all). Run as
// many as a channel needs: the workers of a channel share its durable consumer, and a worker
// that dies loses nothing, since its deliveries are redelivered to the others.
//
//	channel-worker --channel webhook
//	channel-worker --channel webhook,slack
//	channel-worker --channel all
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/heraldhq/herald/internal/app"
)

func main() {
	fs := flag.NewFlagSet("channel-worker", flag.ContinueOnError)
	channels := fs.String("channel", "", "channels to deliver, comma-separated, or all (required)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if *channels == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: channel-worker --channel webhook[,other...]|all")
		os.Exit(2)
	}
	os.Exit(app.Main(app.Role{Name: "channel-worker", Channels: strings.Split(*channels, ",")}, ":8081", nil))
}
