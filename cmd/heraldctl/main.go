// Command heraldctl is Herald's HTTP API from a terminal: tenant destinations, delivery
// history, dead letters, replays, tenant keys, status and test sends.
//
//	heraldctl status
//	heraldctl destinations ls --tenant acme
//	heraldctl history --channel slack --status dead,failed --since 2h
//	heraldctl replay --since 2h --type 'payment.*' --channel slack
//
// It reaches the API at HERALD_URL (default http://127.0.0.1:8080) with the token in
// HERALD_TOKEN, or, when that is unset, in data/admin.token, where the single-machine
// default keeps the admin token it generated. --json prints the API's JSON as it came.
// Exit codes: 0 ok, 1 the API answered an error, 2 usage, 3 the server could not be
// reached, 4 credentials refused (401, 403), 5 not found. See docs/heraldctl.md.
package main

import (
	"context"
	"os"
	"os/signal"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv))
}
