package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/internal/apiclient"
	"github.com/heraldhq/herald/internal/store"
)

// countCap bounds how many dead letters a confirmation counts before it says "at least".
const countCap = 10000

func (c *ctl) deadCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dead",
		Short: "Dead letters: ls, redrive, discard",
	}
	var (
		ff filterFlags
		lf listFlags
	)
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "Dead letters, newest first, with the history's filters", Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.start()
			items, raw, err := collect(lf, func(p apiclient.PageRequest) (apiclient.Page[store.Delivery], *apiclient.Response, error) {
				return c.client.DeadLetters(cmd.Context(), ff.filter(), p)
			})
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			c.printDeliveries(items)
			return nil
		},
	}
	ff.add(ls, false)
	lf.add(ls)
	cmd.AddCommand(ls, c.deadAction("redrive", "Send dead letters again under the same delivery id, with a fresh attempt budget", "redriven"),
		c.deadAction("discard", "Remove dead letters", "discarded"))
	return cmd
}

// deadAction is redrive or discard: by ids, or by a filter after a confirmation.
func (c *ctl) deadAction(verb, short, done string) *cobra.Command {
	var (
		ff  filterFlags
		yes bool
	)
	cmd := &cobra.Command{
		Use:   verb + " [DELIVERY-ID...]",
		Short: short,
		Long: short + `: the delivery ids given, or every dead letter the filter selects
(--channel, --tenant, --type, --since, --until; at least one). A filter asks first, on a
terminal, unless --yes; off a terminal it needs --yes.`,
		Example: fmt.Sprintf(`  heraldctl dead %[1]s 01JD5M0Q1S8K9W3W6Z2B1R4T7Y:slack
  heraldctl dead %[1]s --channel slack --since 2h
  heraldctl dead %[1]s --channel slack --since 2h --yes`, verb),
		RunE: func(cmd *cobra.Command, args []string) error {
			sel := apiclient.DeadSelection{IDs: args, Channel: ff.channel, Tenant: ff.tenant, EventType: ff.eventType, Since: ff.since, Until: ff.until}
			byFilter := sel.Channel != "" || sel.Tenant != "" || sel.EventType != "" || sel.Since != "" || sel.Until != ""
			switch {
			case len(args) > 0 && byFilter:
				return usagef("give delivery ids or a filter, not both")
			case len(args) == 0 && !byFilter:
				return usagef("give delivery ids, or a filter (--channel, --tenant, --type, --since, --until): %s everything takes an explicit filter", verb)
			}
			c.start()
			if byFilter && !yes {
				n, more, err := c.countDead(cmd.Context(), ff)
				if err != nil {
					return err
				}
				if n == 0 {
					fmt.Fprintln(c.io.out, "no dead letters match")
					return nil
				}
				count := fmt.Sprint(n)
				if more {
					count = "at least " + count
				}
				if err := c.needConfirmation(false, fmt.Sprintf("%s %s dead %s?", titleCase(verb), count, plural(n, "letter", "letters"))); err != nil {
					return err
				}
			}
			call := c.client.Redrive
			if verb == "discard" {
				call = c.client.Discard
			}
			n, raw, err := call(cmd.Context(), sel)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			fmt.Fprintf(c.io.out, "%s %d dead %s\n", done, n, plural(n, "letter", "letters"))
			return nil
		},
	}
	cmd.Flags().StringVar(&ff.tenant, "tenant", "", "select this tenant's dead letters")
	cmd.Flags().StringVar(&ff.eventType, "type", "", "select this event type or pattern")
	cmd.Flags().StringVar(&ff.channel, "channel", "", "select this channel's dead letters")
	cmd.Flags().StringVar(&ff.since, "since", "", "select those created since: a duration back from now (2h) or an RFC 3339 time")
	cmd.Flags().StringVar(&ff.until, "until", "", "select those created before: a duration back from now or an RFC 3339 time")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask before acting on a filter")
	return cmd
}

// countDead counts the dead letters a filter selects, up to countCap.
func (c *ctl) countDead(ctx context.Context, ff filterFlags) (n int, more bool, err error) {
	req := apiclient.PageRequest{Limit: 500}
	for {
		p, _, err := c.client.DeadLetters(ctx, ff.filter(), req)
		if err != nil {
			return 0, false, err
		}
		n += len(p.Data)
		if p.NextCursor == "" {
			return n, false, nil
		}
		if n >= countCap {
			return n, true, nil
		}
		req.Cursor = p.NextCursor
	}
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
