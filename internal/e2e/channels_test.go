package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/discord/discordtest"
	"github.com/heraldhq/herald/internal/channel/email/emailtest"
	"github.com/heraldhq/herald/internal/channel/slack/slacktest"
	"github.com/heraldhq/herald/internal/render"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// channelWait bounds the waits of the channel tests: providers are paced (Slack at one message
// a second after a burst of three), so nine events take several seconds per destination.
const channelWait = 90 * time.Second

// publishSamples publishes render.Samples(): one event of each seed type and a custom one.
func publishSamples(t *testing.T, n *testutil.NATS) []*sdk.Event {
	t.Helper()
	nc, _ := jsFor(t, n)
	pub, err := sdk.NewPublisher(nc)
	if err != nil {
		t.Fatal(err)
	}
	events := render.Samples()
	for _, ev := range events {
		if _, err := pub.Publish(context.Background(), ev); err != nil {
			t.Fatalf("publish %s: %v", ev.Type, err)
		}
	}
	return events
}

// TestEveryTypeReachesDiscordSlackAndEmail: configured through the variables of the design,
// the fleet delivers every seed type and a custom type to Discord, Slack and email, and the
// fake providers, which refuse whatever the real ones document refusing, refuse nothing.
func TestEveryTypeReachesDiscordSlackAndEmail(t *testing.T) {
	t.Parallel()
	titles := map[string][]string{}
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	dc := discordtest.NewServer(t)
	sl := slacktest.NewServer(t)
	rs := emailtest.NewResend(t)
	relay := emailtest.NewSMTP(t, emailtest.WithMode(emailtest.ModePlain))

	// Discord, Slack and Resend through the design's variables; a second email destination
	// through a local SMTP relay.
	e := baseEnv(t, n.URL(), dbURL, relay.Destination("relay", "Herald <alerts@herald.example>", "oncall@acme.example"))
	e["NOTIFICATIONS_DISCORD_ENABLED"] = "true"
	e["NOTIFICATIONS_DISCORD_WEBHOOK_URL"] = dc.Webhook().URL
	e["NOTIFICATIONS_SLACK_ENABLED"] = "true"
	e["NOTIFICATIONS_SLACK_WEBHOOK_URL"] = sl.NewWebhook("alerts")
	e["NOTIFICATIONS_EMAIL_ENABLED"] = "true"
	e["NOTIFICATIONS_RESEND_API_URL"] = rs.URL()
	e["NOTIFICATIONS_RESEND_API_KEY"] = rs.APIKey()
	e["NOTIFICATIONS_EMAIL_FROM"] = "Herald <alerts@herald.example>"
	e["NOTIFICATIONS_EMAIL_TO"] = `["ops@acme.example","cfo@acme.example"]`
	fl := startFleet(t, e, wholeFleet)

	events := publishSamples(t, n)
	want := len(events)

	discordMsgs := dc.WaitForMessages(t, want, channelWait)
	slackMsgs := sl.WaitForMessages(t, want, channelWait)
	ctx, cancel := context.WithTimeout(context.Background(), channelWait)
	defer cancel()
	emails, err := rs.WaitForEmails(ctx, want)
	if err != nil {
		t.Fatalf("Resend: %v", err)
	}
	mails, err := relay.WaitForMessages(ctx, want)
	if err != nil {
		t.Fatalf("SMTP relay: %v", err)
	}
	for _, r := range rs.Rejected() {
		if r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("Resend refused a request: %v", r.Error())
		}
	}
	for _, em := range emails {
		if em.HTML == "" || em.Text == "" || em.IdempotencyKey == "" || len(em.To) != 2 {
			t.Errorf("Resend email %q lacks a part, its Idempotency-Key or a recipient", em.Subject)
		}
		titles["resend"] = append(titles["resend"], em.Subject)
	}
	for _, m := range mails {
		if m.HTML == "" || m.Text == "" || m.MessageID == "" {
			t.Errorf("SMTP email %q lacks a part or its Message-ID", m.Subject)
		}
		titles["smtp"] = append(titles["smtp"], m.Subject)
	}

	if bad := dc.Invalid(); len(bad) > 0 {
		t.Errorf("Discord refused %d requests, first: %+v", len(bad), bad[0])
	}
	for _, r := range sl.Rejected() {
		if r.Status != http.StatusTooManyRequests {
			t.Errorf("Slack refused a request: %d %s %s", r.Status, r.Code, r.Reason)
		}
	}
	// Each event arrives once per provider, readable: its title says what happened.
	for _, m := range discordMsgs {
		if len(m.Embeds) != 1 {
			t.Fatalf("Discord message with %d embeds, want 1", len(m.Embeds))
		}
		titles["discord"] = append(titles["discord"], m.Embeds[0].Title)
	}
	for _, m := range slackMsgs {
		if len(m.Payload.Warnings) > 0 {
			t.Errorf("Slack message with markup warnings: %v", m.Payload.Warnings)
		}
		titles["slack"] = append(titles["slack"], m.Payload.Header())
	}
	for provider, got := range titles {
		if len(got) != want {
			t.Errorf("%s got %d messages, want %d", provider, len(got), want)
		}
		for _, words := range []string{"Payment failed", "terminates in 2m0s", "Order shipped"} {
			if !containsSome(got, words) {
				t.Errorf("%s: no title mentions %q among %q", provider, words, got)
			}
		}
	}

	db := ledger(t, dbURL)
	testutil.WaitFor(t, channelWait, "every delivery recorded as delivered", func() bool {
		return statusCounts(t, db)["delivered"] == 4*want
	})
	for _, ch := range []string{"discord", "slack", "email"} {
		var rows, attempts int
		if err := db.QueryRow(context.Background(),
			`SELECT COUNT(*), COALESCE(SUM(attempts), 0) FROM notification_deliveries WHERE channel = $1 AND status = 'delivered'`, ch).
			Scan(&rows, &attempts); err != nil {
			t.Fatal(err)
		}
		perChannel := want
		if ch == "email" {
			perChannel = 2 * want // Resend and the relay
		}
		if rows != perChannel || attempts != perChannel {
			t.Errorf("ledger: %s has %d delivered rows with %d attempts, want %d and %d", ch, rows, attempts, perChannel, perChannel)
		}
	}
	if lines := logLines(fl.logs.String(), `"level":"ERROR"`); len(lines) > 0 {
		t.Errorf("errors logged: %s", strings.Join(lines, "\n"))
	}
}

// TestProviderRateLimitsSlowDeliveryLoseNothing: a Discord webhook whose bucket is smaller
// than Herald's default pace answers 429s; the worker waits for the bucket to refill and sends
// again, without using up attempts, and every event is delivered once.
func TestProviderRateLimitsSlowDeliveryLoseNothing(t *testing.T) {
	t.Parallel()
	n := testutil.StartNATS(t)
	dbURL := testutil.NewDatabase(t)
	dc := discordtest.NewServer(t, discordtest.WithBucket(2, time.Second))

	e := baseEnv(t, n.URL(), dbURL)
	e["NOTIFICATIONS_DESTINATIONS"] = "[]"
	e["NOTIFICATIONS_DISCORD_ENABLED"] = "true"
	e["NOTIFICATIONS_DISCORD_WEBHOOK_URL"] = dc.Webhook().URL
	e["NOTIFICATIONS_MAX_RETRIES"] = "0"    // a 429 that used up an attempt would be dead at once
	e["NOTIFICATIONS_SEND_TIMEOUT"] = "10s" // so that only a 429, not a loaded machine, could fail a send
	fl := startFleet(t, e, wholeFleet)
	// Besides its small bucket, the provider rate-limits the first three requests outright,
	// as Discord does when a shared limit is hit.
	for range 3 {
		dc.RespondNext(discordtest.Response{
			Status: http.StatusTooManyRequests,
			Header: http.Header{"Retry-After": {"1"}, "Content-Type": {"application/json"}},
			Body:   `{"message": "You are being rate limited.", "retry_after": 0.3, "global": false}`,
		})
	}

	nc, _ := jsFor(t, n)
	pub := publisher(t, nc)
	const events = 12
	for i := range events {
		ev, err := sdk.NewPaymentSucceeded("acme", sdk.PaymentSucceeded{TenantName: "Acme", Amount: float64(100 + i), Currency: "USD", PaymentID: fmt.Sprintf("pay_%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.Publish(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	dc.WaitForMessages(t, events, channelWait)
	if dc.Injected() != 3 {
		t.Fatalf("%d of the 3 rate-limit answers were given", dc.Injected())
	}
	if bad := dc.Invalid(); len(bad) > 0 {
		t.Errorf("Discord refused %d requests for other reasons than its rate limit: %+v", len(bad), bad[0])
	}
	db := ledger(t, dbURL)
	testutil.WaitFor(t, channelWait, "every delivery recorded", func() bool {
		return statusCounts(t, db)["delivered"] == events
	})
	if c := ledgerStatuses(t, db); c["dead"]+c["failed"] > 0 {
		t.Errorf("ledger = %v, want every delivery delivered", c)
	}
	if got := len(dc.Messages()); got != events {
		t.Errorf("Discord shows %d messages, want %d: none lost, none twice", got, events)
	}
	body := metrics(t, fl.HTTPAddr())
	if !strings.Contains(body, `notifications_rate_limited_total{channel="discord"}`) ||
		strings.Contains(body, `notifications_rate_limited_total{channel="discord"} 0`) {
		t.Errorf("notifications_rate_limited_total does not count the 429s")
	}
}

func containsSome(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// metrics returns the text of a process's /metrics.
func metrics(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
