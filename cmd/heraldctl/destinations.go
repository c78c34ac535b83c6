package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/internal/apiclient"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

func (c *ctl) destinationsCommand() *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:     "destinations",
		Aliases: []string{"destination", "dest"},
		Short:   "A tenant's destinations: ls, get, create, update, rm, enable, disable, rotate-secret, test",
	}
	cmd.PersistentFlags().StringVar(&tenant, "tenant", "", "the tenant (required)")
	need := func() error {
		if tenant == "" {
			return usagef("--tenant is required")
		}
		return nil
	}

	var list listFlags
	ls := &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List the tenant's destinations", Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			items, raw, err := collect(list, func(p apiclient.PageRequest) (apiclient.Page[control.Destination], *apiclient.Response, error) {
				return c.client.Destinations(cmd.Context(), tenant, p)
			})
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return nil
			}
			t := newTable(c.io.out, "ID", "CHANNEL", "ENABLED", "EVENT TYPES", "UPDATED")
			for _, d := range items {
				t.row(d.ID, d.Channel, enabledText(d), strings.Join(d.EventTypes, ","), ago(d.UpdatedAt))
			}
			t.flush()
			return nil
		},
	}
	list.add(ls)

	get := &cobra.Command{
		Use: "get ID", Short: "Show one destination (secrets masked)", Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			d, raw, err := c.client.Destination(cmd.Context(), tenant, args[0])
			return c.showDestination(d, raw, err)
		},
	}

	var in destinationFlags
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a destination",
		Example: `  heraldctl destinations create --tenant acme --channel webhook --id billing \
      --set url=https://billing.acme.example/hooks --event-types 'payment.*'
  heraldctl destinations create --tenant acme --channel slack \
      --config '{"webhook_url":"https://hooks.slack.com/services/T0/B0/XXXX"}'`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := need(); err != nil {
				return err
			}
			if in.channel == "" {
				return usagef("--channel is required")
			}
			cfg, err := in.configJSON()
			if err != nil {
				return err
			}
			body := control.DestinationInput{ID: in.id, Channel: in.channel, Config: cfg, EventTypes: in.eventTypes}
			if in.disabled {
				f := false
				body.Enabled = &f
			}
			c.start()
			d, raw, err := c.client.CreateDestination(cmd.Context(), tenant, body)
			return c.showDestination(d, raw, err)
		},
	}
	in.add(create, true)

	var up destinationFlags
	update := &cobra.Command{
		Use:   "update ID",
		Short: "Change a destination: config keys are merged (a key set to null is removed)",
		Example: `  heraldctl destinations update billing --tenant acme --event-types 'payment.*,tenant.*'
  heraldctl destinations update billing --tenant acme --set method=PUT`,
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			cfg, err := up.configJSON()
			if err != nil {
				return err
			}
			var patch control.DestinationPatch
			if up.channel != "" {
				patch.Channel = &up.channel
			}
			if cfg != nil {
				patch.Config = cfg
			}
			if cmd.Flags().Changed("event-types") {
				patch.EventTypes = &up.eventTypes
			}
			if patch.Channel == nil && patch.Config == nil && patch.EventTypes == nil {
				return usagef("nothing to change: give --config, --set, --event-types or --channel")
			}
			c.start()
			d, raw, err := c.client.UpdateDestination(cmd.Context(), tenant, args[0], patch)
			return c.showDestination(d, raw, err)
		},
	}
	up.add(update, false)

	rm := &cobra.Command{
		Use: "rm ID", Aliases: []string{"delete"}, Short: "Delete a destination", Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			if _, err := c.client.DeleteDestination(cmd.Context(), tenant, args[0]); err != nil {
				return err
			}
			if c.json {
				fmt.Fprintf(c.io.out, "{\"deleted\":%q}\n", args[0])
				return nil
			}
			fmt.Fprintf(c.io.out, "deleted destination %s of %s\n", args[0], tenant)
			return nil
		},
	}

	enable := func(on bool) *cobra.Command {
		use, short := "disable ID", "Pause a destination"
		if on {
			use, short = "enable ID", "Enable a destination, clearing an automatic disable"
		}
		return &cobra.Command{
			Use: use, Short: short, Args: exactArgs("ID"),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := need(); err != nil {
					return err
				}
				c.start()
				d, raw, err := c.client.SetDestinationEnabled(cmd.Context(), tenant, args[0], on)
				return c.showDestination(d, raw, err)
			},
		}
	}

	var overlap string
	rotate := &cobra.Command{
		Use: "rotate-secret ID", Short: "Give a webhook destination a new secret (shown once); the old one signs beside it for --overlap",
		Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			d, raw, err := c.client.RotateSecret(cmd.Context(), tenant, args[0], overlap)
			return c.showDestination(d, raw, err)
		},
	}
	rotate.Flags().StringVar(&overlap, "overlap", "", "how long the old secret keeps signing (default 24h)")

	test := &cobra.Command{
		Use: "test ID", Short: "Send a herald.test event to the destination now", Args: exactArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := need(); err != nil {
				return err
			}
			c.start()
			o, raw, err := c.client.TestDestination(cmd.Context(), tenant, args[0])
			if err != nil {
				return err
			}
			if c.json {
				c.printJSON(raw)
				return notDelivered([]control.TestOutcome{o})
			}
			c.printOutcomes([]control.TestOutcome{o})
			return notDelivered([]control.TestOutcome{o})
		},
	}
	cmd.AddCommand(ls, get, create, update, rm, enable(true), enable(false), rotate, test)
	return cmd
}

func enabledText(d control.Destination) string {
	if d.Enabled {
		return "yes"
	}
	if d.DisabledReason != "" {
		return "no (" + d.DisabledReason + ")"
	}
	return "no"
}

func (c *ctl) showDestination(d control.Destination, raw *apiclient.Response, err error) error {
	if err != nil {
		return err
	}
	if c.json {
		c.printJSON(raw)
		return nil
	}
	t := newTable(c.io.out, "FIELD", "VALUE")
	t.row("tenant", d.Tenant)
	t.row("id", d.ID)
	t.row("channel", d.Channel)
	t.row("enabled", enabledText(d))
	t.row("event types", orDash(strings.Join(d.EventTypes, ",")))
	t.row("config", string(d.Config))
	if d.SecretOverlapUntil != nil {
		t.row("old secret signs until", d.SecretOverlapUntil.Format("2006-01-02 15:04:05 MST")+" ("+ago(*d.SecretOverlapUntil)+")")
	}
	t.row("created", ago(d.CreatedAt))
	t.row("updated", ago(d.UpdatedAt))
	t.flush()
	if d.Secret != "" {
		fmt.Fprintf(c.io.out, "\nsecret: %s\nThis is the only time the secret is shown: give it to the receiver now.\n", d.Secret)
	}
	return nil
}

// destinationFlags are create's and update's flags.
type destinationFlags struct {
	id, channel string
	config      string
	set         []string
	eventTypes  []string
	disabled    bool
}

func (f *destinationFlags) add(cmd *cobra.Command, create bool) {
	cmd.Flags().StringVar(&f.channel, "channel", "", "the channel: webhook, discord, slack, email, sms, pagerduty, teams, telegram")
	cmd.Flags().StringVar(&f.config, "config", "", `the channel's config as a JSON object, e.g. '{"url":"https://..."}'`)
	cmd.Flags().StringArrayVar(&f.set, "set", nil, "one config key, key=value (repeatable); a value that is JSON (an array, an object) is taken as such")
	cmd.Flags().StringSliceVar(&f.eventTypes, "event-types", nil, "event type patterns, comma-separated, e.g. 'payment.*,node.*'")
	if create {
		cmd.Flags().StringVar(&f.id, "id", "", "the destination's id (default: generated)")
		cmd.Flags().BoolVar(&f.disabled, "disabled", false, "create it paused")
	}
}

// configJSON merges --config and --set into one JSON object; nil when neither is given.
func (f *destinationFlags) configJSON() (json.RawMessage, error) {
	if f.config == "" && len(f.set) == 0 {
		return nil, nil
	}
	obj := map[string]json.RawMessage{}
	if f.config != "" {
		if err := json.Unmarshal([]byte(f.config), &obj); err != nil {
			return nil, usagef("--config is not a JSON object: %v", err)
		}
	}
	for _, kv := range f.set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--set %q: want key=value", kv)
		}
		if t := strings.TrimSpace(v); (strings.HasPrefix(t, "[") || strings.HasPrefix(t, "{") || t == "null") && json.Valid([]byte(t)) {
			obj[k] = json.RawMessage(t)
			continue
		}
		b, _ := json.Marshal(v)
		obj[k] = b
	}
	b, err := json.Marshal(obj)
	return b, err
}

func (c *ctl) printOutcomes(outs []control.TestOutcome) {
	t := newTable(c.io.out, "DESTINATION", "STATUS", "HTTP", "DURATION", "ERROR")
	for _, o := range outs {
		http := "-"
		if o.HTTPStatus != 0 {
			http = fmt.Sprint(o.HTTPStatus)
		}
		t.row(o.Destination, string(o.Status), http, fmt.Sprintf("%dms", o.DurationMS), orDash(cut(o.Error, 80)))
	}
	t.flush()
}

// notDelivered is the error of a test send that did not deliver: a script checking a
// destination sees exit code 1.
func notDelivered(outs []control.TestOutcome) error {
	for _, o := range outs {
		if o.Status != store.StatusDelivered {
			return fmt.Errorf("test send to %s: %s", o.Destination, o.Status)
		}
	}
	return nil
}
