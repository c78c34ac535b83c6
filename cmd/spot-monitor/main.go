// Command spot-monitor runs on a spot (preemptible) GPU node and tells Herald when the
// cloud is about to reclaim it: it polls the instance's metadata service (AWS IMDSv2, GCP's
// metadata server or Azure's Scheduled Events) and publishes one node.terminated event per
// termination notice, with the node's id, the time remaining and the reason. Run
// "spot-monitor --help" for the flags; docs/spot-monitor.md describes it.
//
//	spot-monitor --tenant acme                       detect the cloud, publish to $NOTIFICATIONS_NATS_URL
//	spot-monitor --cloud aws --interval 2s
//	spot-monitor --cloud azure --azure-approve       let Azure proceed once the event is out
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}
