package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/internal/apiclient"
	"github.com/heraldhq/herald/internal/control"
)

// pollEvery is how often a replay's progress is read; the server saves it every 500 ms.
var pollEvery = 250 * time.Millisecond

// interrupts delivers Ctrl-C while a replay runs; tests replace it.
var interrupts = func() (<-chan os.Signal, func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt)
	return ch, func() { signal.Stop(ch) }
}

func (c *ctl) replayCommand() *cobra.Command {
	var (
		req    apiclient.ReplayRequest
		dryRun bool
		yes    bool
	)
	cmd := &cobra.Command{
		Use:   "replay --since DURATION|TIME [flags]",
		Short: "Re-dispatch past events from the replay log; replay status|cancel ID",
		Long: `replay re-dispatches the events published in [--since, --until) that pass the filters.
It first runs a dry run and shows how many events match and how many deliveries they make;
on a terminal it asks before it starts (--yes does not ask; off a terminal --yes is needed),
then shows a progress bar until the job is done. Ctrl-C asks whether to cancel the job.`,
		Example: `  heraldctl replay --since 2h --type 'payment.*' --channel slack
  heraldctl replay --since 2026-12-06T09:00:00Z --until 2026-12-06T10:00:00Z --tenant acme --dry-run
  heraldctl replay --since 30m --destinations original --yes --json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Since == "" {
				return usagef("--since is required: a duration back from now (2h) or an RFC 3339 time")
			}
			switch req.Destinations {
			case "", "current", "original":
			default:
				return usagef("--destinations must be current or original")
			}
			c.start()
			ctx := cmd.Context()
			dry := req
			dry.DryRun = true
			job, _, err := c.client.StartReplay(ctx, dry)
			if err != nil {
				return err
			}
			job, raw, err := c.client.WaitReplay(ctx, job.ID, pollEvery, nil)
			if err != nil {
				return err
			}
			if job.State != control.ReplayDone {
				return fmt.Errorf("dry run %s %s: %s", job.ID, job.State, job.Error)
			}
			if dryRun {
				if c.json {
					c.printJSON(raw)
					return nil
				}
				fmt.Fprintf(c.io.out, "%d events match, %d deliveries would be sent (dry run %s)\n", job.Matched, job.Dispatched, job.ID)
				return nil
			}
			if job.Matched == 0 {
				if c.json {
					c.printJSON(raw)
					return nil
				}
				fmt.Fprintln(c.io.out, "no events match: nothing to replay")
				return nil
			}
			if !c.json {
				fmt.Fprintf(c.io.out, "%d events match, %d deliveries will be sent\n", job.Matched, job.Dispatched)
			}
			if err := c.needConfirmation(yes, fmt.Sprintf("Replay %d events (%d deliveries)?", job.Matched, job.Dispatched)); err != nil {
				return err
			}
			run, _, err := c.client.StartReplay(ctx, req)
			if err != nil {
				return err
			}
			return c.watchReplay(ctx, run, job.Dispatched)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Since, "since", "", "replay events published since: a duration back from now (2h) or an RFC 3339 time (required)")
	f.StringVar(&req.Until, "until", "", "and before: a duration back from now or an RFC 3339 time (default now)")
	f.StringVar(&req.Tenant, "tenant", "", "only this tenant's events")
	f.StringSliceVar(&req.EventTypes, "type", nil, "event types or patterns, e.g. 'payment.*' (repeatable, comma-separated)")
	f.StringSliceVar(&req.Channels, "channel", nil, "only deliveries to these channels (repeatable, comma-separated)")
	f.StringVar(&req.Destinations, "destinations", "", "current (the destinations that match now, default) or original (those the event first went to)")
	f.BoolVar(&dryRun, "dry-run", false, "only count")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask before starting")

	status := &cobra.Command{
		Use: "status ID", Short: "A replay's progress", Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.start()
			job, raw, err := c.client.Replay(cmd.Context(), args[0])
			return c.showReplay(job, raw, err)
		},
	}
	cancel := &cobra.Command{
		Use: "cancel ID", Short: "Cancel a replay", Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.start()
			job, raw, err := c.client.CancelReplay(cmd.Context(), args[0])
			return c.showReplay(job, raw, err)
		},
	}
	cmd.AddCommand(status, cancel)
	return cmd
}

// watchReplay follows a running replay to its end: a progress bar on a terminal, Ctrl-C
// asks whether to cancel it (off a terminal, Ctrl-C cancels it).
func (c *ctl) watchReplay(ctx context.Context, job control.Replay, expected int64) error {
	// The command's context ends at Ctrl-C; the job must still be watched, or cancelled.
	ctx = context.WithoutCancel(ctx)
	sigs, stop := interrupts()
	defer stop()
	var bar *progressbar.ProgressBar
	if !c.json && isTerminal(c.io.out) {
		max := expected
		if max <= 0 {
			max = -1
		}
		bar = progressbar.NewOptions64(max, progressbar.OptionSetWriter(c.io.out), progressbar.OptionSetDescription("replay "+job.ID),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(c.io.out) }))
	}
	var raw *apiclient.Response
	var err error
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for job.State == control.ReplayRunning {
		select {
		case <-sigs:
			if bar != nil {
				_ = bar.Clear()
			}
			if c.interactive() && !c.confirm(fmt.Sprintf("\nCancel replay %s?", job.ID)) {
				continue
			}
			if job, raw, err = c.client.CancelReplay(ctx, job.ID); err != nil {
				return err
			}
		case <-tick.C:
			if job, raw, err = c.client.Replay(ctx, job.ID); err != nil {
				return err
			}
		}
		if bar != nil {
			if expected > 0 && job.Dispatched > expected {
				bar.ChangeMax64(job.Dispatched)
			}
			_ = bar.Set64(job.Dispatched)
		}
	}
	if bar != nil {
		if job.State == control.ReplayDone {
			_ = bar.Finish()
		} else {
			_ = bar.Exit()
			fmt.Fprintln(c.io.out)
		}
	}
	if c.json && raw != nil {
		c.printJSON(raw)
	}
	switch job.State {
	case control.ReplayDone:
		if !c.json {
			fmt.Fprintf(c.io.out, "replay %s done: %d events, %d deliveries dispatched\n", job.ID, job.Matched, job.Dispatched)
		}
		return nil
	case control.ReplayCancelled:
		return fmt.Errorf("replay %s cancelled after %d events, %d deliveries dispatched", job.ID, job.Matched, job.Dispatched)
	}
	return fmt.Errorf("replay %s %s after %d events, %d deliveries: %s", job.ID, job.State, job.Matched, job.Dispatched, job.Error)
}

func (c *ctl) showReplay(job control.Replay, raw *apiclient.Response, err error) error {
	if err != nil {
		return err
	}
	if c.json {
		c.printJSON(raw)
		return nil
	}
	r := job.Request
	t := newTable(c.io.out, "FIELD", "VALUE")
	for _, kv := range [][2]string{
		{"id", job.ID}, {"state", job.State}, {"matched events", fmt.Sprint(job.Matched)}, {"dispatched deliveries", fmt.Sprint(job.Dispatched)},
		{"error", orDash(job.Error)},
		{"window", r.Since.Format(time.RFC3339) + " to " + r.Until.Format(time.RFC3339)},
		{"tenant", orDash(r.Tenant)}, {"event types", orDash(strings.Join(r.EventTypes, ","))}, {"channels", orDash(strings.Join(r.Channels, ","))},
		{"destinations", orDash(r.Destinations)}, {"dry run", fmt.Sprint(r.DryRun)},
		{"started", ago(job.CreatedAt)}, {"updated", ago(job.UpdatedAt)},
	} {
		t.row(kv[0], kv[1])
	}
	t.flush()
	return nil
}
