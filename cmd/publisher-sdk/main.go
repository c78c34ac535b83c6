// Command publisher-sdk publishes Herald events from a shell, a script or a CI job: it
// builds a CloudEvent from flags (or takes a complete one from a file) and publishes it
// through the SDK's Publisher. Run "publisher-sdk help" for usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
