// Command control-plane is an example of a platform's control plane telling Herald what
// happens, through the SDK: a gateway whose POST /signup publishes tenant.created, billing
// whose POST /webhooks/payments (a payment provider's signed webhook) publishes
// payment.succeeded or payment.failed, and an orchestrator whose POST /nodes starts a
// simulated GPU node and publishes node.launched with the time the launch took.
// docs/examples.md walks through it.
//
//	NOTIFICATIONS_NATS_URL=nats://127.0.0.1:4222 PAYMENTS_WEBHOOK_SECRET=whsec_test \
//	    go run ./examples/control-plane --addr 127.0.0.1:8090
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/heraldhq/herald/sdk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "control-plane: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("control-plane", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	launchTime := fs.Duration("launch-time", 3*time.Second, "how long a simulated node takes to start")
	if err := fs.Parse(args); err != nil {
		return err
	}
	natsURL := getenv("NOTIFICATIONS_NATS_URL")
	if natsURL == "" {
		natsURL = nats.DefaultURL // where the single-machine fleet's embedded server listens
	}
	prefix := getenv("NOTIFICATIONS_SUBJECT_PREFIX")
	if prefix == "" {
		prefix = sdk.DefaultSubjectPrefix
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))

	auth, err := natsCredentials(getenv)
	if err != nil {
		return err
	}
	// A cluster with TLS (as docker-compose.yml runs it): verify its nodes against its CA,
	// and present a client certificate when one is given.
	if ca := getenv("NOTIFICATIONS_NATS_TLS_CA"); ca != "" {
		auth = append(auth, nats.RootCAs(ca))
	}
	if cert, key := getenv("NOTIFICATIONS_NATS_TLS_CERT"), getenv("NOTIFICATIONS_NATS_TLS_KEY"); cert != "" || key != "" {
		auth = append(auth, nats.ClientCert(cert, key))
	}
	// Keep reconnecting through a NATS outage: the handlers answer 503 meanwhile, and the
	// callers' retries carry the same event ids.
	nc, err := nats.Connect(natsURL, append(auth, nats.Name("control-plane"), nats.MaxReconnects(-1))...)
	if err != nil {
		return fmt.Errorf("connect to NATS: %w", err)
	}
	defer nc.Close()
	pub, err := sdk.NewPublisher(nc, sdk.WithSubjectPrefix(prefix))
	if err != nil {
		return err
	}
	srv, err := NewServer(Config{
		Publisher: pub, PaymentsSecret: getenv("PAYMENTS_WEBHOOK_SECRET"), LaunchTime: *launchTime, Log: log,
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	log.Info("control plane listening", "addr", "http://"+ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// natsCredentials returns the options that authenticate to Herald's NATS as a producer,
// the role that may publish events: NOTIFICATIONS_NATS_CREDS names an nkey seed file (as
// the fleet writes them) or a .creds file (a user JWT and its seed, for servers in operator
// mode). Without it and without NOTIFICATIONS_NATS_URL, the control plane runs beside the
// single-machine fleet and takes the producer seed it generated in its data directory.
func natsCredentials(getenv func(string) string) ([]nats.Option, error) {
	creds := getenv("NOTIFICATIONS_NATS_CREDS")
	if creds == "" && getenv("NOTIFICATIONS_NATS_URL") == "" {
		dir := getenv("NOTIFICATIONS_DATA_DIR")
		if dir == "" {
			dir = "data"
		}
		if f := filepath.Join(dir, "nats-credentials", "producer.nk"); fileExists(f) {
			creds = f
		}
	}
	if creds == "" {
		return nil, nil
	}
	b, err := os.ReadFile(creds)
	if err != nil {
		return nil, fmt.Errorf("NOTIFICATIONS_NATS_CREDS: %w", err)
	}
	if bytes.Contains(b, []byte("BEGIN NATS USER JWT")) {
		return []nats.Option{nats.UserCredentials(creds)}, nil
	}
	nkey, err := nats.NkeyOptionFromSeed(creds)
	if err != nil {
		return nil, fmt.Errorf("NOTIFICATIONS_NATS_CREDS: %s: %w", creds, err)
	}
	return []nats.Option{nkey}, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
