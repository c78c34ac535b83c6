package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/cmd/spot-monitor/internal/spot"
	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/natsauth"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/sdk"
)

// defaultNATSURL is where the single-machine fleet's embedded server listens.
const defaultNATSURL = "nats://127.0.0.1:4222"

// options is the command line, each flag falling back on a variable.
type options struct {
	cloud, metadataURL, tenant, nodeID, source string
	natsURL, natsCreds, prefix                 string
	natsURLSet                                 bool
	dataDir, natsCA, natsCert, natsKey         string
	interval, publishTimeout                   time.Duration
	approve                                    bool
	logLevel, logFormat                        string
}

// parse reads the flags; a flag not given takes its variable's value: the fleet's
// NOTIFICATIONS_NATS_URL, NOTIFICATIONS_SUBJECT_PREFIX, NOTIFICATIONS_LOG_LEVEL and
// NOTIFICATIONS_LOG_FORMAT, and SPOT_MONITOR_<FLAG> for the monitor's own.
func parse(args []string, getenv func(string) string, out io.Writer) (options, error) {
	var o options
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("spot-monitor", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&o.cloud, "cloud", env("SPOT_MONITOR_CLOUD", "auto"), "aws, gcp, azure, or auto to probe the three metadata services ($SPOT_MONITOR_CLOUD)")
	fs.StringVar(&o.metadataURL, "metadata-url", env("SPOT_MONITOR_METADATA_URL", ""), "base URL of the metadata service, instead of the cloud's own, such as a fake one in tests ($SPOT_MONITOR_METADATA_URL)")
	fs.DurationVar(&o.interval, "interval", spot.DefaultInterval, "time between two polls of the metadata service ($SPOT_MONITOR_INTERVAL)")
	fs.StringVar(&o.tenant, "tenant", env("SPOT_MONITOR_TENANT", ""), "tenant the events belong to; none by default ($SPOT_MONITOR_TENANT)")
	fs.StringVar(&o.nodeID, "node-id", env("SPOT_MONITOR_NODE_ID", ""), "node_id of the events, such as the Kubernetes node name; default the instance id ($SPOT_MONITOR_NODE_ID)")
	fs.StringVar(&o.source, "source", env("SPOT_MONITOR_SOURCE", spot.DefaultEventSource), "CloudEvents source of the events ($SPOT_MONITOR_SOURCE)")
	fs.BoolVar(&o.approve, "azure-approve", false, "on Azure, approve each Preempt or Terminate event once its event is published, so that Azure proceeds at once ($SPOT_MONITOR_AZURE_APPROVE=true)")
	fs.StringVar(&o.natsURL, "nats-url", env("NOTIFICATIONS_NATS_URL", defaultNATSURL), "NATS servers, comma-separated ($NOTIFICATIONS_NATS_URL)")
	fs.StringVar(&o.natsCreds, "nats-creds", env("NOTIFICATIONS_NATS_CREDS", ""), "NATS credentials: the producer role's nkey seed file, or a .creds file; without a NATS URL, the embedded default's producer seed under $NOTIFICATIONS_DATA_DIR ($NOTIFICATIONS_NATS_CREDS)")
	fs.StringVar(&o.prefix, "subject-prefix", env("NOTIFICATIONS_SUBJECT_PREFIX", sdk.DefaultSubjectPrefix), "subject prefix of the fleet ($NOTIFICATIONS_SUBJECT_PREFIX)")
	fs.DurationVar(&o.publishTimeout, "publish-timeout", sdk.DefaultPublishTimeout, "how long one publish waits for the stream's ack before it is tried again ($SPOT_MONITOR_PUBLISH_TIMEOUT)")
	fs.StringVar(&o.logLevel, "log-level", env("NOTIFICATIONS_LOG_LEVEL", "info"), "debug, info, warn or error ($NOTIFICATIONS_LOG_LEVEL)")
	fs.StringVar(&o.logFormat, "log-format", env("NOTIFICATIONS_LOG_FORMAT", "auto"), "auto (text on a terminal, JSON otherwise), text or json ($NOTIFICATIONS_LOG_FORMAT)")
	// Durations and booleans from variables are parsed like their flags, so that a bad
	// value is reported with the variable's name.
	for name, flagName := range map[string]string{
		"SPOT_MONITOR_INTERVAL": "interval", "SPOT_MONITOR_PUBLISH_TIMEOUT": "publish-timeout",
		"SPOT_MONITOR_AZURE_APPROVE": "azure-approve",
	} {
		if v := getenv(name); v != "" {
			if err := fs.Set(flagName, v); err != nil {
				return o, fmt.Errorf("%s: %v", name, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	fs.Visit(func(f *flag.Flag) { o.natsURLSet = o.natsURLSet || f.Name == "nats-url" })
	o.natsURLSet = o.natsURLSet || getenv("NOTIFICATIONS_NATS_URL") != ""
	// The fleet's TLS files for NATS, as every Herald process reads them.
	o.dataDir = env("NOTIFICATIONS_DATA_DIR", "data")
	o.natsCA, o.natsCert, o.natsKey = getenv("NOTIFICATIONS_NATS_TLS_CA"), getenv("NOTIFICATIONS_NATS_TLS_CERT"), getenv("NOTIFICATIONS_NATS_TLS_KEY")
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.cloud != "auto" && o.cloud != spot.CloudAWS && o.cloud != spot.CloudGCP && o.cloud != spot.CloudAzure:
		return o, fmt.Errorf("--cloud %q: want aws, gcp, azure or auto", o.cloud)
	case o.interval <= 0:
		return o, fmt.Errorf("--interval %s: must be positive", o.interval)
	case o.publishTimeout <= 0:
		return o, fmt.Errorf("--publish-timeout %s: must be positive", o.publishTimeout)
	case o.tenant != "" && !sdk.ValidTenant(o.tenant):
		return o, fmt.Errorf("--tenant %q: not a single token of letters, digits, '-' and '_'", o.tenant)
	case o.approve && o.cloud != spot.CloudAzure && o.cloud != "auto":
		return o, fmt.Errorf("--azure-approve is for --cloud azure")
	case o.logFormat != "auto" && o.logFormat != "text" && o.logFormat != "json":
		return o, fmt.Errorf("--log-format %q: want auto, text or json", o.logFormat)
	}
	return o, nil
}

// run is the whole command, apart from signals, so that tests can call it. It returns the
// exit status: 0 after ctx ends, 2 for a mistake in the command line, 1 when the monitor
// cannot start.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	o, err := parse(args, getenv, stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintf(stderr, "spot-monitor: %v\n", err)
		return 2
	}
	log := obs.NewLogger(obs.LogConfig{Level: o.logLevel, Format: o.logFormat, Out: stderr}).With("process", "spot-monitor")
	if err := monitor(ctx, o, log); err != nil {
		log.Error("stopping", "err", err)
		fmt.Fprintf(stderr, "spot-monitor: %v\n", err)
		return 1
	}
	return 0
}

// monitor wires the metadata source, NATS and the monitor, and runs it until ctx ends.
func monitor(ctx context.Context, o options, log *slog.Logger) error {
	srcOpts := spot.Options{BaseURL: o.metadataURL}
	cloud := o.cloud
	if cloud == "auto" {
		var err error
		if cloud, err = spot.Detect(ctx, srcOpts); err != nil {
			return err
		}
		log.Info("detected the cloud", "cloud", cloud)
	}
	if o.approve && cloud != spot.CloudAzure {
		return fmt.Errorf("--azure-approve: the cloud is %s, not azure", cloud)
	}
	src, err := spot.New(cloud, srcOpts)
	if err != nil {
		return fmt.Errorf("--metadata-url: %w", err)
	}

	// The node may boot before NATS is reachable: keep trying in the background rather
	// than fail, since a notice must go out whenever NATS is back.
	// The monitor connects as a producer, the role that may publish events and nothing else.
	// Without a NATS URL it is on the machine of the embedded default, whose producer seed
	// it finds in the data directory.
	url := ""
	if o.natsURLSet {
		url = o.natsURL
	}
	auth, err := natsauth.ClientFor(url, o.dataDir, natsauth.Role{Kind: natsauth.Producer},
		natsauth.Client{Creds: o.natsCreds, CA: o.natsCA, Cert: o.natsCert, Key: o.natsKey})
	if err != nil {
		return fmt.Errorf("NATS credentials: %w", err)
	}
	natsOpts := append([]nats.Option{nats.RetryOnFailedConnect(true)}, auth...)
	nc, err := broker.Connect(strings.TrimSpace(o.natsURL), "spot-monitor", log, natsOpts...)
	if err != nil {
		return err
	}
	defer nc.Close()
	pub, err := sdk.NewPublisher(nc, sdk.WithSubjectPrefix(o.prefix), sdk.WithPublishTimeout(o.publishTimeout))
	if err != nil {
		return fmt.Errorf("--subject-prefix: %w", err)
	}
	m, err := spot.NewMonitor(spot.Config{
		Source: src, Publisher: pub, Tenant: o.tenant, NodeID: o.nodeID, EventSource: o.source,
		Interval: o.interval, Acknowledge: o.approve, Log: log,
	})
	if err != nil {
		return err
	}
	return m.Run(ctx)
}
