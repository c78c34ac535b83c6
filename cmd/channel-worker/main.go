// Command channel-worker delivers one channel's notifications (or several, or all). Run as
// many as a channel needs: the workers of a channel share its durable consumer, and a worker
// that dies loses nothing, since its deliveries are redelivered to the others.
//
//	channel-worker --channel webhook
//	channel-worker --channel webhook,slack
//	channel-worker --channel all
//	channel-worker env      print every NOTIFICATIONS_* variable with its default and meaning
//	channel-worker --help
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/heraldhq/herald/internal/app"
)

const defaultHTTPAddr = ":8081"

func main() {
	role := app.Role{Name: "channel-worker"}
	args := os.Args[1:]
	if app.IsHelp(args) || (len(args) > 0 && !strings.HasPrefix(args[0], "-")) {
		// Help, or a subcommand such as env.
		os.Exit(app.Main(role, defaultHTTPAddr, args))
	}
	fs := flag.NewFlagSet("channel-worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	channels := fs.String("channel", "", "channels to deliver, comma-separated, or all (required)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			app.Usage(os.Stdout, role, defaultHTTPAddr)
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "channel-worker: %v\n\n", err)
		app.Usage(os.Stderr, role, defaultHTTPAddr)
		os.Exit(2)
	}
	if *channels == "" || fs.NArg() > 0 {
		fmt.Fprint(os.Stderr, "channel-worker: --channel is required, and nothing may follow it\n\n")
		app.Usage(os.Stderr, role, defaultHTTPAddr)
		os.Exit(2)
	}
	role.Channels = strings.Split(*channels, ",")
	os.Exit(app.Main(role, defaultHTTPAddr, nil))
}
