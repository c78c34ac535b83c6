// Command herald-bench measures Herald's throughput, latency and cost against the limit that
// JetStream sets on the same machine, in one run:
//
//   - the baseline: a bare loop of async publishes with Nats-Msg-Id into a file stream and a
//     pull consumer that acks each message explicitly, with messages the size of the events;
//   - the pipeline (dispatcher with recorder, 1 or 3 channel-worker processes, PostgreSQL) to
//     a loopback webhook receiver that verifies every signature, at fan-out 1, 3 and 10:
//     deliveries per second at saturation, publish-to-delivery latency at an offered load and
//     at saturation, CPU seconds per 1,000 deliveries and peak memory per process;
//   - the ledger: results preloaded into RESULTS, written by the recorder into PostgreSQL;
//   - a worker's memory with 1,000 deliveries in flight to a receiver that holds them.
//
// NATS runs embedded in a child process unless NOTIFICATIONS_NATS_URL names a server;
// NOTIFICATIONS_DATABASE_URL names the PostgreSQL database (its two ledger tables are
// truncated between runs), or a throwaway server is started as the tests do. The dispatcher
// and workers are the real binaries, built into a temporary directory, so that their CPU time
// and peak resident memory are read from /proc per process. Results are printed as a markdown
// table and, with -out, written to results.md and results.json.
//
//	go run ./cmd/herald-bench -out docs/bench
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	out        string
	bin        string
	fanouts    []int
	workers    []int
	rate       int
	paced      time.Duration
	saturation time.Duration
	warmup     time.Duration
	window     int
	baselineN  int
	ledgerN    int
	inFlight   int
	keep       bool
	only       map[string]bool

	natsRole bool
	natsDir  string
	natsAddr string
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("herald-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.out, "out", "", "directory to write results.md and results.json into (created if missing)")
	fs.StringVar(&o.bin, "bin", "", "directory holding prebuilt dispatcher and channel-worker binaries (default: go build them)")
	fanouts := fs.String("fanout", "1,3,10", "destinations per event, one pipeline run each")
	workers := fs.String("workers", "1,3", "channel-worker processes, one pipeline run each")
	fs.IntVar(&o.rate, "rate", 1000, "offered load of the paced runs, events per second")
	fs.DurationVar(&o.paced, "paced", 5*time.Second, "length of each paced run (fan-out 1 only)")
	fs.DurationVar(&o.saturation, "saturation", 8*time.Second, "length of each saturation run")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "part of each run left out of the figures")
	fs.IntVar(&o.window, "window", 1000, "deliveries the saturating publisher keeps in flight")
	fs.IntVar(&o.baselineN, "baseline-msgs", 100000, "messages in the baseline loop")
	fs.IntVar(&o.ledgerN, "ledger-results", 100000, "results preloaded for the ledger run")
	fs.IntVar(&o.inFlight, "in-flight", 1000, "deliveries held in flight for the worker memory run")
	only := fs.String("only", "baseline,pipeline,ledger,in-flight", "the parts to run, comma-separated")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (process logs) after the run")
	fs.BoolVar(&o.natsRole, "nats-server", false, "internal: run the embedded NATS server until stdin closes")
	fs.StringVar(&o.natsDir, "nats-dir", "", "internal: the embedded server's data directory")
	fs.StringVar(&o.natsAddr, "nats-addr", "", "internal: the embedded server's address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.natsRole {
		return serveNATS(o.natsDir, o.natsAddr, stderr)
	}
	var err error
	if o.fanouts, err = intList(*fanouts); err != nil {
		fmt.Fprintf(stderr, "herald-bench: -fanout: %v\n", err)
		return 2
	}
	if o.workers, err = intList(*workers); err != nil {
		fmt.Fprintf(stderr, "herald-bench: -workers: %v\n", err)
		return 2
	}
	o.only = map[string]bool{}
	for _, part := range strings.Split(*only, ",") {
		switch part = strings.TrimSpace(part); part {
		case "baseline", "pipeline", "ledger", "in-flight":
			o.only[part] = true
		default:
			fmt.Fprintf(stderr, "herald-bench: -only: unknown part %q\n", part)
			return 2
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	res, err := bench(ctx, o, log)
	if err != nil {
		fmt.Fprintf(stderr, "herald-bench: %v\n", err)
		return 1
	}
	md := res.Markdown()
	fmt.Fprint(stdout, md)
	if o.out != "" {
		if err := res.Write(o.out, md); err != nil {
			fmt.Fprintf(stderr, "herald-bench: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s and %s\n", filepath.Join(o.out, "results.md"), filepath.Join(o.out, "results.json"))
	}
	return 0
}
