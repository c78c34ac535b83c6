package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel/discord/discordtest"
	"github.com/heraldhq/herald/internal/channel/email/emailtest"
	"github.com/heraldhq/herald/internal/channel/pagerduty/pagerdutytest"
	"github.com/heraldhq/herald/internal/channel/slack/slacktest"
	"github.com/heraldhq/herald/internal/channel/sms/smstest"
	"github.com/heraldhq/herald/internal/channel/teams/teamstest"
	"github.com/heraldhq/herald/internal/channel/telegram/telegramtest"
	"github.com/heraldhq/herald/internal/childproc"
	"github.com/heraldhq/herald/internal/cmdtb"
	"github.com/heraldhq/herald/sdk"
)

// secretVars: few, quick attempts and no circuit breaker (it would hold the failing
// deliveries for its cooldown), so that every failing delivery goes through its attempts to
// DEAD within the run, and debug logs, so that every line a failure can write is written.
var secretVars = map[string]string{
	"NOTIFICATIONS_MAX_RETRIES":       "2",
	"NOTIFICATIONS_RETRY_BACKOFF":     "100ms,200ms",
	"NOTIFICATIONS_CIRCUIT_THRESHOLD": "0",
	"NOTIFICATIONS_LOG_LEVEL":         "debug",
}

// failingDests are the destinations of the secrets scenario that fail: webhooks answered
// 500 and 401, Discord (500, then 404 quoting the webhook's path, token included), Slack
// (500 rollup_error), email through Resend (the key is refused), SMS through Twilio (the auth
// token is refused), PagerDuty (the routing key is unknown), Teams (the workflow is gone) and
// Telegram (the bot token was revoked).
var failingDests = []string{"webhook", "refused", "discord", "slack", "email", "sms", "pagerduty", "teams", "telegram"}

// secrets: every channel fails against its endpoint with recognisable secrets, and none of
// them shows in any log, dead letter, ledger error, metric or HTTP answer.
func secrets(ctx context.Context, s *suite, r *Result) error {
	e, err := s.newEnv(ctx, "secrets", 1)
	if err != nil {
		return err
	}
	defer e.close()
	tb := cmdtb.New("secrets", os.Stderr)
	defer tb.Close()
	known := map[string]string{ // what to search for, by what it is
		"webhook secret": e.secret,
		"webhook key":    strings.TrimPrefix(e.secret, sdk.WebhookSecretPrefix),
		"resend api key": "re_chaos_" + randomHex(16),
		"discord token":  "chaosDiscordToken_" + randomHex(20),
		"admin token":    "chaos-admin-" + randomHex(16),
		"twilio token":   "chaosTwilioToken" + randomHex(8),
		"pagerduty key":  randomHex(16), // 32 characters, as PagerDuty's are
	}

	if err := e.startReceiver(map[string]behaviour{
		"ok": answer(http.StatusNoContent), "webhook": answer(http.StatusInternalServerError), "refused": answer(http.StatusUnauthorized),
	}); err != nil {
		return err
	}
	var disc *discordtest.Server
	var slack *slacktest.Server
	var resend *emailtest.Resend
	var twilio *smstest.Server
	var pd *pagerdutytest.Server
	var teams *teamstest.Server
	var tg *telegramtest.Server
	var slackURL string
	if err := tb.Run(func() {
		disc = discordtest.NewServer(tb, discordtest.WithWebhook("1234567890123456789", known["discord token"]), discordtest.WithBucket(50, time.Second))
		slack = slacktest.NewServer(tb, slacktest.WithoutRateLimit())
		resend = emailtest.NewResend(tb) // it accepts its own key, not Herald's
		twilio = smstest.NewServer(tb, smstest.WithoutRateLimit())
		pd = pagerdutytest.NewServer(tb, pagerdutytest.WithoutRateLimit())
		teams = teamstest.NewServer(tb, teamstest.WithoutRateLimit())
		tg = telegramtest.NewServer(tb, telegramtest.WithoutRateLimit())
	}); err != nil {
		return err
	}
	account := twilio.NewAccount() // Herald gets its SID and number, and a wrong auth token
	workflow := teams.NewWorkflow("ops")
	teams.RemoveWorkflow(workflow) // 404: the workflow was deleted
	if u, err := url.Parse(workflow); err == nil {
		known["teams signature"] = u.Query().Get("sig")
	}
	bot := tg.NewBot()
	chat := tg.NewChat(telegramtest.Private)
	tg.RevokeBot(bot) // 401
	known["telegram token"] = bot
	var discordRequests atomic.Int64
	disc.SetHook(func(w http.ResponseWriter, req *http.Request, _ []byte) bool {
		w.Header().Set("Content-Type", "application/json")
		if discordRequests.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"message": "500: Internal Server Error", "code": 0}`)
			return true
		}
		// A provider that quotes the request's path, token and all, in its error.
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message": "Unknown Webhook %s", "code": 10015}`, req.URL.Path)
		return true
	})
	slackURL = slack.NewWebhook("alerts")
	known["slack token"] = slackURL[strings.LastIndexByte(slackURL, '/')+1:]
	for range s.sc.SecretEvents * 3 {
		slack.FailNext(http.StatusInternalServerError, "rollup_error")
	}

	vars, err := e.vars(e.webhooks("ok", "refused"), with(secretVars, map[string]string{
		"NOTIFICATIONS_WEBHOOK_ENABLED":       "true",
		"NOTIFICATIONS_WEBHOOK_URL":           e.recv.destURL("webhook"),
		"NOTIFICATIONS_WEBHOOK_SECRET":        e.secret,
		"NOTIFICATIONS_DISCORD_ENABLED":       "true",
		"NOTIFICATIONS_DISCORD_WEBHOOK_URL":   disc.Webhook().URL,
		"NOTIFICATIONS_SLACK_ENABLED":         "true",
		"NOTIFICATIONS_SLACK_WEBHOOK_URL":     slackURL,
		"NOTIFICATIONS_EMAIL_ENABLED":         "true",
		"NOTIFICATIONS_EMAIL_FROM":            "Herald <alerts@example.com>",
		"NOTIFICATIONS_EMAIL_TO":              `["ops@example.com"]`,
		"NOTIFICATIONS_RESEND_API_KEY":        known["resend api key"],
		"NOTIFICATIONS_RESEND_API_URL":        resend.URL(),
		"NOTIFICATIONS_ADMIN_TOKEN":           known["admin token"],
		"NOTIFICATIONS_SMS_ENABLED":           "true",
		"NOTIFICATIONS_TWILIO_ACCOUNT_SID":    account.SID,
		"NOTIFICATIONS_TWILIO_AUTH_TOKEN":     known["twilio token"],
		"NOTIFICATIONS_TWILIO_FROM":           account.From,
		"NOTIFICATIONS_SMS_TO":                `["+14155550100"]`,
		"NOTIFICATIONS_TWILIO_API_URL":        twilio.URL,
		"NOTIFICATIONS_PAGERDUTY_ENABLED":     "true",
		"NOTIFICATIONS_PAGERDUTY_ROUTING_KEY": known["pagerduty key"],
		"NOTIFICATIONS_PAGERDUTY_API_URL":     pd.URL,
		"NOTIFICATIONS_TEAMS_ENABLED":         "true",
		"NOTIFICATIONS_TEAMS_WEBHOOK_URL":     workflow,
		"NOTIFICATIONS_TELEGRAM_ENABLED":      "true",
		"NOTIFICATIONS_TELEGRAM_BOT_TOKEN":    bot,
		"NOTIFICATIONS_TELEGRAM_CHAT_ID":      chat,
		"NOTIFICATIONS_TELEGRAM_API_URL":      tg.URL,
	}))
	if err != nil {
		return err
	}
	if err := e.startFleet(ctx, 1, []string{"webhook", "discord", "slack", "email", "sms", "pagerduty", "teams", "telegram"}, vars); err != nil {
		return err
	}
	msgs, err := goodEvents(s.sc.SecretEvents)
	if err != nil {
		return err
	}
	pub := newPublisher(e.js)
	pub.publish(ctx, msgs, 0, 4)
	if _, _, err := e.settle(ctx, r, pub, []string{"ok"}, s.sc.Drain); err != nil {
		return err
	}
	// Every failing delivery ends in DEAD: wait for all of them, so that every failure path
	// has written what it writes.
	wantDead := len(pub.published()) * len(failingDests)
	var dead []deadLetter
	_ = childproc.WaitEvery(ctx, s.sc.Drain, 500*time.Millisecond, "the failing deliveries in DEAD", func() bool {
		d, err := e.deadLetters(ctx)
		if err == nil {
			dead = d
		}
		return len(dead) >= wantDead
	})
	r.Dead = len(dead)
	perDest := map[string]int{}
	for _, d := range dead {
		perDest[d.Header.Get(broker.HeaderDestination)]++
	}
	failed := len(dead) >= wantDead
	for _, d := range failingDests {
		failed = failed && perDest[d] > 0
	}
	r.checkStall(5 * time.Second) // the healthy destination beside the failing ones
	r.check("every failing destination's deliveries in DEAD", failed, "%d of %d; by destination %v", len(dead), wantDead, perDest)
	e.commonChecks(r)

	// Search everything the fleet wrote or answered.
	sources, err := e.outputs(ctx, dead, known["admin token"])
	if err != nil {
		return err
	}
	for _, src := range []string{"logs", "dead letters", "ledger errors", "metrics", "http answers"} {
		hits := search(sources[src].text, known)
		r.check("no secret in "+src, len(hits) == 0, "searched %s%s", sources[src].what, hitsDetail(hits))
	}
	return nil
}

// output is the text of one kind of output and what it was made of.
type output struct {
	text []string
	what string
}

// outputs gathers every process's logs, the DEAD stream's subjects, headers and bodies, the
// ledger's errors, every process's metrics, and every process's answers to the health,
// metrics, admin and API paths with the admin token, a wrong one and none.
func (e *env) outputs(ctx context.Context, dead []deadLetter, adminToken string) (map[string]output, error) {
	out := map[string]output{}

	files := e.fleet.LogFiles()
	if e.srv != nil {
		files = append(files, e.srv.LogFile())
	}
	var logs []string
	size := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		logs = append(logs, string(b))
		size += len(b)
	}
	out["logs"] = output{logs, fmt.Sprintf("%d log files, %d KiB", len(files), size>>10)}

	var letters []string
	for _, d := range dead {
		var b strings.Builder
		b.WriteString(d.Subject + "\n")
		_ = http.Header(d.Header).Write(&b)
		b.Write(d.Data)
		letters = append(letters, b.String())
	}
	out["dead letters"] = output{letters, fmt.Sprintf("%d dead letters, headers and bodies", len(dead))}

	conn, err := pgx.Connect(ctx, e.dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var errs []string
	for _, q := range []string{`SELECT last_error FROM notification_deliveries`, `SELECT error FROM notification_attempts`} {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return nil, err
			}
			errs = append(errs, s)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out["ledger errors"] = output{errs, fmt.Sprintf("%d last_error and error values", len(errs))}

	var metrics, answers []string
	auths := []http.Header{nil, {"Authorization": {"Bearer " + adminToken}}, {"X-Admin-Token": {adminToken}},
		{"Authorization": {"Bearer wrong-" + adminToken[:4]}}}
	paths := []string{"/metrics", "/healthz", "/readyz", "/openapi.json", "/admin/notifications/status",
		"/admin/notifications/history", "/admin/notifications/dead", "/v1/tenants/acme/destinations"}
	for _, p := range e.fleet.Names() {
		base := "http://" + e.fleet.HTTPAddr(p)
		body, _, err := httpGet(ctx, base+"/metrics", nil)
		if err != nil {
			return nil, fmt.Errorf("metrics of %s: %w", p, err)
		}
		metrics = append(metrics, string(body))
		for _, path := range paths {
			for _, h := range auths {
				body, head, err := httpGet(ctx, base+path, h)
				if err != nil {
					return nil, fmt.Errorf("GET %s on %s: %w", path, p, err)
				}
				answers = append(answers, head+string(body))
			}
		}
	}
	out["metrics"] = output{metrics, fmt.Sprintf("/metrics of %d processes", len(metrics))}
	out["http answers"] = output{answers, fmt.Sprintf("%d answers to %d paths with the admin token, a wrong one and none", len(answers), len(paths))}
	return out, nil
}

// search counts the occurrences of each known secret in texts, by the secret's name.
func search(texts []string, known map[string]string) map[string]int {
	hits := map[string]int{}
	for _, t := range texts {
		for name, secret := range known {
			if n := strings.Count(t, secret); n > 0 {
				hits[name] += n
			}
		}
	}
	return hits
}

// hitsDetail names the secrets found and how often, never the secrets themselves.
func hitsDetail(hits map[string]int) string {
	if len(hits) == 0 {
		return ""
	}
	var parts []string
	for name, n := range hits {
		parts = append(parts, fmt.Sprintf("%s ×%d", name, n))
	}
	sort.Strings(parts)
	return "; found " + strings.Join(parts, ", ")
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
