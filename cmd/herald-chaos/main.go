// Command herald-chaos is Herald's fault suite: it runs the real binaries (dispatcher and
// channel-worker, built into a temporary directory) as processes against real nats-server
// processes and a real PostgreSQL, injects one fault per scenario, and checks that nothing is
// lost, that no healthy delivery ends in DEAD and that every duplicate kept its webhook-id.
//
//	go run ./cmd/herald-chaos                        # every scenario, full scale
//	go run ./cmd/herald-chaos -scale ci              # small counts: about 4 minutes on 2 cores
//	go run ./cmd/herald-chaos -run 'cluster|secrets' # scenarios whose name matches
//	go run ./cmd/herald-chaos -out docs/chaos        # also write results.md and results.json
//
// The scenarios: workers SIGKILLed under a receiver failing a fifth of its requests; the
// leaders of EVENTS and DELIVERIES SIGKILLed in a 3-node JetStream cluster; PostgreSQL stopped
// mid-run; a destination that never answers beside nine healthy ones; a barrage of malformed
// events; and every channel failing with recognisable secrets, which must appear in no log,
// dead letter, ledger row, metric or HTTP answer. docs/fault-suite.md describes each and what
// it checks.
//
// It prints one table row per scenario (events, delivered, lost, duplicates and whether they
// kept their webhook-id, dead letters, healthy deliveries among them, time to drain, p99 and
// maximum publish-to-delivery latency, verdict) and each scenario's checks, and exits 1 when
// any scenario fails. PostgreSQL is a throwaway server, started as the tests start theirs.
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
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/heraldhq/herald/internal/fleetproc"
	"github.com/heraldhq/herald/internal/natsproc"
	"github.com/heraldhq/herald/internal/pgserver"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	scale string
	run   *regexp.Regexp
	out   string
	bin   string
	keep  bool
}

func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("herald-chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.scale, "scale", "full", "full, or ci: small counts so that the suite runs in about 4 minutes on 2 cores")
	pattern := fs.String("run", "", "run only the scenarios whose name matches this regular expression")
	fs.StringVar(&o.out, "out", "", "directory to write results.md and results.json into (created if missing)")
	fs.StringVar(&o.bin, "bin", "", "directory holding prebuilt dispatcher, channel-worker and nats-server binaries (default: go build them)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (every process's log) after the run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	sc, ok := scales[o.scale]
	if !ok {
		fmt.Fprintf(stderr, "herald-chaos: -scale: %q is not full or ci\n", o.scale)
		return 2
	}
	var err error
	if o.run, err = regexp.Compile(*pattern); err != nil {
		fmt.Fprintf(stderr, "herald-chaos: -run: %v\n", err)
		return 2
	}
	picked := pick(o.run)
	if len(picked) == 0 {
		fmt.Fprintf(stderr, "herald-chaos: -run %q matches none of: %s\n", *pattern, strings.Join(names(), ", "))
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	rep, err := runSuite(ctx, o, sc, picked, log)
	if rep == nil {
		fmt.Fprintf(stderr, "herald-chaos: %v\n", err)
		return 1
	}
	md := rep.Markdown()
	fmt.Fprint(stdout, md)
	if o.out != "" {
		if err := rep.Write(o.out, md); err != nil {
			fmt.Fprintf(stderr, "herald-chaos: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "wrote %s and %s\n", filepath.Join(o.out, "results.md"), filepath.Join(o.out, "results.json"))
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald-chaos: %v\n", err)
		return 1
	}
	if !rep.Pass() {
		return 1
	}
	return 0
}

// runSuite prepares what the scenarios share, then runs them one after the other. An
// interrupted run returns the results so far with the context's error.
func runSuite(ctx context.Context, o options, sc scale, picked []scenario, log *slog.Logger) (*Report, error) {
	s := &suite{o: o, sc: sc, log: log}
	var err error
	if s.dir, err = os.MkdirTemp("", "herald-chaos-"); err != nil {
		return nil, err
	}
	if o.keep {
		log.Info("keeping the temporary directory", "dir", s.dir)
	} else {
		defer os.RemoveAll(s.dir)
	}
	s.bin, s.natsBin = o.bin, filepath.Join(o.bin, "nats-server")
	if o.bin == "" {
		s.bin = filepath.Join(s.dir, "bin")
		log.Info("building dispatcher, channel-worker and nats-server")
		if err := fleetproc.Build(ctx, s.bin); err != nil {
			return nil, err
		}
		if s.natsBin, err = natsproc.Build(ctx, s.bin); err != nil {
			return nil, err
		}
	}
	if s.pg, err = pgserver.Start(); err != nil {
		return nil, err
	}
	defer s.pg.Close()

	rep := &Report{Command: command(), Scale: sc.Name, Started: time.Now().UTC()}
	for _, sn := range picked {
		if ctx.Err() != nil {
			break
		}
		log.Info("scenario", "name", sn.name)
		r := &Result{Scenario: sn.name, Summary: sn.summary, DupsSameID: true}
		start := time.Now()
		if err := sn.run(ctx, s, r); err != nil {
			r.Error = err.Error()
		}
		r.Seconds = time.Since(start).Seconds()
		r.verdict()
		log.Info("scenario done", "name", sn.name, "pass", r.Pass, "seconds", int(r.Seconds), "failures", strings.Join(r.failures(), "; "))
		rep.Results = append(rep.Results, r)
	}
	rep.Seconds = time.Since(rep.Started).Seconds()
	return rep, ctx.Err()
}

// command is how this run was started, for the report.
func command() string {
	return strings.TrimSpace("go run ./cmd/herald-chaos " + strings.Join(os.Args[1:], " "))
}
