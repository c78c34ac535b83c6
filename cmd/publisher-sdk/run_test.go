package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// cli runs the command against one embedded server with an EVENTS stream.
type cli struct {
	t      *testing.T
	env    map[string]string
	stream jetstream.Stream
}

func setupCLI(t *testing.T) *cli {
	t.Helper()
	srv := testutil.StartNATS(t)
	js, err := jetstream.New(srv.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.CreateStream(t.Context(), jetstream.StreamConfig{
		Name: "EVENTS", Subjects: []string{"herald.events.>"}, Duplicates: time.Minute, Storage: jetstream.MemoryStorage,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &cli{t: t, env: map[string]string{"NOTIFICATIONS_NATS_URL": srv.URL()}, stream: stream}
}

// run runs the command with args and stdin, returning its exit status, stdout and stderr.
func (c *cli) run(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(c.t.Context(), args, func(k string) string { return c.env[k] }, strings.NewReader(stdin), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// stored returns the event the stream holds at seq.
func (c *cli) stored(seq uint64) (*jetstream.RawStreamMsg, *sdk.Event) {
	c.t.Helper()
	msg, err := c.stream.GetMsg(c.t.Context(), seq)
	if err != nil {
		c.t.Fatal(err)
	}
	e, err := sdk.Decode(msg.Data)
	if err != nil {
		c.t.Fatalf("stored event: %v", err)
	}
	return msg, e
}

func TestPublishKeyValues(t *testing.T) {
	t.Parallel()
	c := setupCLI(t)
	code, out, errOut := c.run("", "publish", "--type", "payment.failed", "--tenant", "acme", "--severity", "critical",
		"tenant_id=acme", "reason=card declined", "amount=49.99")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var id string
	var seq uint64
	if _, err := fmt.Sscanf(out, "published %s stream=EVENTS seq=%d\n", &id, &seq); err != nil || seq != 1 {
		t.Fatalf("output %q (%v)", out, err)
	}
	msg, e := c.stored(seq)
	if e.ID != id || e.Type != "payment.failed" || e.TenantID != "acme" || e.Severity != sdk.SeverityCritical ||
		e.Source != "publisher-sdk" || msg.Subject != "herald.events.acme.payment.failed" ||
		msg.Header.Get(jetstream.MsgIDHeader) != id {
		t.Errorf("stored %+v on %s", e, msg.Subject)
	}
	var p sdk.PaymentFailed
	if err := e.UnmarshalData(&p); err != nil || p.Amount != 49.99 || p.Reason != "card declined" {
		t.Errorf("data %s -> %+v, %v", e.Data, p, err)
	}

	// The same id again is a duplicate.
	code, out, errOut = c.run("", "publish", "--type", "payment.failed", "--tenant", "acme", "--id", id,
		"reason=card declined", "--json")
	if code != 2 || !strings.Contains(errOut, "flags go before the data") {
		t.Errorf("flag after data: exit %d, %q", code, errOut)
	}
	code, out, errOut = c.run("", "publish", "--json", "--type", "payment.failed", "--tenant", "acme", "--id", id,
		"reason=card declined")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res struct {
		ID        string `json:"id"`
		Subject   string `json:"subject"`
		Stream    string `json:"stream"`
		Seq       uint64 `json:"seq"`
		Duplicate bool   `json:"duplicate"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output %q: %v", out, err)
	}
	if res.ID != id || !res.Duplicate || res.Seq != 1 || res.Stream != "EVENTS" ||
		res.Subject != "herald.events.acme.payment.failed" {
		t.Errorf("--json result = %+v", res)
	}
}

func TestPublishDataFlagAndPrefix(t *testing.T) {
	t.Parallel()
	c := setupCLI(t)
	c.env["NOTIFICATIONS_SUBJECT_PREFIX"] = "herald" // explicit, same as default
	code, out, errOut := c.run("", "publish", "--type", "deploy.finished", "--source", "ci", "--time", "2025-03-01T12:00:00+01:00",
		"--data", `{"service":"api","ok":true}`)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "published ") {
		t.Fatalf("output %q", out)
	}
	msg, e := c.stored(1)
	if msg.Subject != "herald.events._.deploy.finished" || e.Source != "ci" || string(e.Data) != `{"service":"api","ok":true}` ||
		!e.Time.Equal(time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)) || e.Severity != sdk.SeverityInfo {
		t.Errorf("stored %+v on %s", e, msg.Subject)
	}
}

func TestPublishFile(t *testing.T) {
	t.Parallel()
	c := setupCLI(t)
	event := `{"specversion":"1.0","id":"evt-42","source":"billing","type":"payment.succeeded","tenantid":"acme",` +
		`"severity":"info","traceparent":"00-abc-def-01","data":{"tenant_name":"Acme","amount":10,"currency":"USD","payment_id":"p1"}}`
	path := filepath.Join(t.TempDir(), "event.json")
	if err := os.WriteFile(path, []byte(event+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := c.run("", "publish", "--file", path)
	if code != 0 || out != "published evt-42 stream=EVENTS seq=1\n" {
		t.Fatalf("exit %d, out %q, err %q", code, out, errOut)
	}
	msg, _ := c.stored(1)
	if string(msg.Data) != event {
		t.Errorf("file not published as is: %s", msg.Data)
	}

	code, out, errOut = c.run(event, "publish", "--file", "-")
	if code != 0 || out != "published evt-42 stream=EVENTS seq=1 duplicate\n" {
		t.Errorf("stdin: exit %d, out %q, err %q", code, out, errOut)
	}

	bad := strings.Replace(event, `"payment_id":"p1"`, `"payment_id":7`, 1)
	code, _, errOut = c.run(bad, "publish", "--file", "-")
	if code != 1 || !strings.Contains(errOut, "data.payment_id") {
		t.Errorf("mistyped payload: exit %d, %q", code, errOut)
	}
}

func TestPublishErrors(t *testing.T) {
	t.Parallel()
	c := setupCLI(t)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no command", nil, 2, "no command"},
		{"unknown command", []string{"send"}, 2, "unknown command"},
		{"no type", []string{"publish", "a=1"}, 2, "--type or --file is required"},
		{"unknown flag", []string{"publish", "--kind", "x"}, 2, "flag provided but not defined"},
		{"data and pairs", []string{"publish", "--type", "x.y", "--data", "{}", "a=1"}, 2, "not both"},
		{"file and type", []string{"publish", "--file", "-", "--type", "x.y"}, 2, "--type cannot be used with --file"},
		{"bad time", []string{"publish", "--type", "x.y", "--time", "yesterday"}, 2, "RFC 3339"},
		{"bad type", []string{"publish", "--type", "bad type"}, 1, "invalid event: type:"},
		{"wildcard type", []string{"publish", "--type", "x.*"}, 1, "invalid event: type:"},
		{"bad tenant", []string{"publish", "--type", "x.y", "--tenant", "a.b"}, 1, "invalid event: tenantid:"},
		{"bad severity", []string{"publish", "--type", "x.y", "--severity", "urgent"}, 1, "invalid event: severity:"},
		{"bad data", []string{"publish", "--type", "x.y", "--data", "{"}, 1, "invalid event: data:"},
		{"missing payload field", []string{"publish", "--type", "node.terminated", "reason=reclaim"}, 1, "data.node_id"},
		{"mistyped payload field", []string{"publish", "--type", "node.launched", "node_id=n", "gpu_count=eight"}, 1, "data.gpu_count"},
		{"file missing", []string{"publish", "--file", "/nonexistent/event.json"}, 1, "read event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errOut := c.run("", tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tc.code, tc.want)
			}
			if out != "" || strings.Count(errOut, "\n") != 1 {
				t.Errorf("want one line on stderr and nothing on stdout; got %q and %q", out, errOut)
			}
		})
	}
}

func TestPublishUnreachableServer(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NOTIFICATIONS_NATS_URL": "nats://bob:hunter2@127.0.0.1:1"}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"publish", "--type", "x.y"}, func(k string) string { return env[k] },
		strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "connect to NATS") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, %q", code, stderr.String())
	}
	if strings.Contains(stderr.String(), "hunter2") {
		t.Errorf("password in error: %q", stderr.String())
	}
}

func TestPublishNoStreamTimesOut(t *testing.T) {
	t.Parallel()
	srv := testutil.StartNATS(t)
	env := map[string]string{"NOTIFICATIONS_NATS_URL": srv.URL()}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	code := run(t.Context(), []string{"publish", "--type", "x.y", "--timeout", "2s"}, func(k string) string { return env[k] },
		strings.NewReader(""), &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "no stream") || time.Since(start) > 2*time.Second {
		t.Errorf("exit %d after %s, %q", code, time.Since(start), stderr.String())
	}
}

func TestHelpAndTypes(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"--help"}, {"publish", "-h"}} {
		var stdout, stderr bytes.Buffer
		code := run(t.Context(), args, func(string) string { return "" }, nil, &stdout, &stderr)
		if code != 0 || !strings.Contains(stdout.String(), "Usage:") || !strings.Contains(stdout.String(), "NOTIFICATIONS_NATS_URL") {
			t.Errorf("%v: exit %d, %q", args, code, stdout.String())
		}
	}
	var stdout bytes.Buffer
	if code := run(t.Context(), []string{"types"}, func(string) string { return "" }, nil, &stdout, &stdout); code != 0 {
		t.Fatalf("types: exit %d", code)
	}
	for _, typ := range sdk.KnownTypes() {
		if !strings.Contains(stdout.String(), typ) {
			t.Errorf("types output lacks %s: %s", typ, stdout.String())
		}
	}
}
