package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/internal/apiclient"
)

func (c *ctl) keysCommand() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{Use: "keys", Short: "Tenant keys: create, ls, rm"}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "the tenant (required)")
	need := func() error {
		if tenant == "" {
			return usagef("--tenant is required")
		}
		return nil
	}
	create := &cobra.Command{
		Use: "create", Short: "Issue a tenant key (shown once)", Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			k, raw, err := c.client.CreateKey(cmd.Context(), tenant)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			fmt.Fprintf(c.io.out, "key %s for tenant %s:\n%s\nThis is the only time the key is shown: store it now.\n", k.ID, k.Tenant, k.Key)
			return nil
		},
	}
	var lf listFlags
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "The tenant's keys that work (without key material)", Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			items, raw, err := collect(lf, func(p apiclient.PageRequest) (apiclient.Page[apiclient.TenantKey], *apiclient.Response, error) {
				return c.client.Keys(cmd.Context(), tenant, p)
			})
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			t := newTable(c.io.out, "ID", "PREFIX", "CREATED")
			for _, k := range items {
				t.row(k.ID, k.Prefix+"…", ago(k.CreatedAt))
			}
			t.flush()
			return nil
		},
	}
	lf.add(ls)
	rm := &cobra.Command{
		Use: "rm KEY-ID", Aliases: []string{"revoke"}, Short: "Revoke a tenant key", Args: exactArgs("KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			if _, err := c.client.RevokeKey(cmd.Context(), tenant, args[0]); err != nil {
				return err
			}
			if c.json {
				fmt.Fprintf(c.io.out, "{\"revoked\":%q}\n", args[0])
				return nil
			}
			fmt.Fprintf(c.io.out, "revoked key %s of %s\n", args[0], tenant)
			return nil
		},
	}
	cmd.AddCommand(create, ls, rm)
	return cmd
}

func (c *ctl) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use: "status", Short: "Per channel: backlog, in flight, redeliveries, dead letters, success rates; unhealthy and disabled destinations",
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.start()
			st, raw, err := c.client.Status(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			t := newTable(c.io.out, "CHANNEL", "BACKLOG", "IN FLIGHT", "REDELIVERED", "DEAD", "OK 5M", "OK 60M")
			for _, ch := range st.Channels {
				t.row(ch.Channel, fmt.Sprint(ch.Backlog), fmt.Sprint(ch.InFlight), fmt.Sprint(ch.Redeliveries), fmt.Sprint(ch.DeadLetters),
					percent(ch.SuccessRate5m), percent(ch.SuccessRate60m))
			}
			t.flush()
			var rows [][]string
			for _, ch := range st.Channels {
				for _, d := range ch.Destinations {
					paused := "-"
					if d.PausedUntil != nil {
						paused = "until " + d.PausedUntil.Format("15:04:05") + " (" + ago(*d.PausedUntil) + ")"
					}
					rows = append(rows, []string{ch.Channel, d.Destination, orDash(d.Circuit), paused, fmt.Sprint(d.DeadLetters)})
				}
			}
			if len(rows) > 0 {
				fmt.Fprintln(c.io.out)
				d := newTable(c.io.out, "CHANNEL", "DESTINATION", "CIRCUIT", "PAUSED", "DEAD")
				for _, r := range rows {
					d.row(r...)
				}
				d.flush()
			}
			if len(st.Disabled) > 0 {
				fmt.Fprintln(c.io.out)
				d := newTable(c.io.out, "DISABLED TENANT", "DESTINATION", "CHANNEL", "REASON", "SINCE")
				for _, x := range st.Disabled {
					d.row(x.Tenant, x.ID, x.Channel, orDash(x.DisabledReason), ago(x.UpdatedAt))
				}
				d.flush()
			}
			return nil
		},
	}
}

func (c *ctl) testCommand() *cobra.Command {
	var channel string
	cmd := &cobra.Command{
		Use: "test --channel NAME", Short: "Send a herald.test event to a channel's operator destinations now",
		Example: "  heraldctl test --channel slack\n  heraldctl destinations test billing --tenant acme   # a tenant's destination",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if channel == "" {
				return usagef("--channel is required")
			}
			c.start()
			outs, raw, err := c.client.TestChannel(cmd.Context(), channel)
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
			} else {
				c.printOutcomes(outs)
			}
			return notDelivered(outs)
		},
	}
	cmd.Flags().StringVar(&channel, "channel", "", "the channel (required)")
	return cmd
}

func (c *ctl) eventTypesCommand() *cobra.Command {
	return &cobra.Command{
		Use: "event-types", Short: "The known event types", Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.start()
			types, raw, err := c.client.EventTypes(cmd.Context())
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			t := newTable(c.io.out, "TYPE", "DESCRIPTION")
			for _, et := range types {
				t.row(et.Type, orDash(strings.TrimSpace(et.Description)))
			}
			t.flush()
			return nil
		},
	}
}
