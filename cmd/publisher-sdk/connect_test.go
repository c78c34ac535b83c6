package main

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/broker/embedded"
	"github.com/heraldhq/herald/internal/natsauth"
)

// TestPublishFindsTheProducersSeed: with no NATS URL, publish reaches the embedded server at
// NOTIFICATIONS_EMBEDDED_NATS_ADDR as the producer, with the seed the fleet wrote into the
// data directory; with another data directory it has none, and the server refuses it.
func TestPublishFindsTheProducersSeed(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	dir := natsauth.CredentialsDir(dataDir)
	users, err := natsauth.EnsureSeeds(dir, "herald", natsauth.EmbeddedRoles([]string{"webhook"}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := embedded.StartWith(embedded.Options{DataDir: t.TempDir(), Addr: addr, Users: users, MaxStorage: 1 << 30},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	opts, err := natsauth.Client{Creds: natsauth.SeedFile(dir, natsauth.Role{Kind: natsauth.Admin})}.Options()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(t.Context(), jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{"herald.events.>"},
		Storage: jetstream.MemoryStorage, Duplicates: time.Minute}); err != nil {
		t.Fatal(err)
	}

	publish := func(env map[string]string) (int, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), []string{"publish", "--type", "deploy.finished", "--timeout", "2s", "service=api"},
			func(k string) string { return env[k] }, strings.NewReader(""), &out, &errOut)
		return code, out.String() + errOut.String()
	}
	if code, out := publish(map[string]string{"NOTIFICATIONS_EMBEDDED_NATS_ADDR": addr, "NOTIFICATIONS_DATA_DIR": dataDir}); code != 0 || !strings.HasPrefix(out, "published ") {
		t.Fatalf("publish with the data directory's seed: exit %d: %s", code, out)
	}
	code, out := publish(map[string]string{"NOTIFICATIONS_EMBEDDED_NATS_ADDR": addr, "NOTIFICATIONS_DATA_DIR": t.TempDir()})
	if code != 1 || !strings.Contains(strings.ToLower(out), "authorization") {
		t.Errorf("publish without a seed: exit %d: %s; want a refusal", code, out)
	}
	code, out = publish(map[string]string{"NOTIFICATIONS_NATS_URL": s.ClientURL(),
		"NOTIFICATIONS_NATS_CREDS": natsauth.SeedFile(dir, natsauth.Role{Kind: natsauth.Producer})})
	if code != 0 {
		t.Errorf("publish with NOTIFICATIONS_NATS_CREDS: exit %d: %s", code, out)
	}
	seed := natsauth.SeedFile(dir, natsauth.Role{Kind: natsauth.Producer})
	code, out = publish(map[string]string{"NOTIFICATIONS_NATS_URL": s.ClientURL(), "NOTIFICATIONS_NATS_CREDS": seed + ".missing"})
	if code != 1 || !strings.Contains(out, "NOTIFICATIONS_NATS_CREDS") {
		t.Errorf("publish with a missing credentials file: exit %d: %s", code, out)
	}
}
