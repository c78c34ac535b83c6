package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/heraldhq/herald/internal/app"
	"github.com/heraldhq/herald/internal/app/parts"
	"github.com/heraldhq/herald/internal/channel/discord/discordtest"
	"github.com/heraldhq/herald/internal/channel/email/emailtest"
	"github.com/heraldhq/herald/internal/channel/slack/slacktest"
	"github.com/heraldhq/herald/internal/channel/teams/teamstest"
	"github.com/heraldhq/herald/internal/config"
	"github.com/heraldhq/herald/internal/obs"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testutil"
	"github.com/heraldhq/herald/sdk"
)

// browserWait bounds each wait on the page: deliveries go through the whole fleet, and
// Chromium shares two cores with the rest of the suite.
const browserWait = 60 * time.Second

// screenshotDir is where the tests leave a screenshot of every page (the README shows
// two of them); relative to this package's directory, where go test runs.
const screenshotDir = "../../docs/screenshots"

// chromium finds Debian's chromium. Without it the browser tests skip, except where
// HERALD_BROWSER_TESTS=1 (scripts/test.sh, so CI) says they must run: there its absence
// fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("HERALD_CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"} {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("HERALD_BROWSER_TESTS") == "1" {
		t.Fatal("HERALD_BROWSER_TESTS=1 but chromium is not installed (scripts/test.sh installs it with apt-get)")
	}
	t.Skip("chromium is not installed; set HERALD_BROWSER_TESTS=1 to make this a failure")
	return ""
}

// receiver is a webhook endpoint that answers 204 and keeps what it got, by path.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  map[string][]map[string]any
	hits int
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{got: map[string][]map[string]any{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ev map[string]any
		_ = json.Unmarshal(b, &ev)
		rc.mu.Lock()
		rc.got[r.URL.Path] = append(rc.got[r.URL.Path], ev)
		rc.hits++
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// count is how many requests path received whose type is typ ("" for any).
func (rc *receiver) count(path, typ string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, ev := range rc.got[path] {
		if typ == "" || ev["type"] == typ {
			n++
		}
	}
	return n
}

// fleet is the whole fleet in this process with the dashboard, on embedded NATS and a test
// PostgreSQL, delivering to fakes of Slack, Discord, Teams and Resend and to a webhook
// receiver.
type fleet struct {
	base  string
	token string
	nats  *testutil.NATS
	slack *slacktest.Server
	hook  *receiver
}

func startFleet(t *testing.T) *fleet {
	t.Helper()
	n := testutil.StartNATS(t)
	sl := slacktest.NewServer(t, slacktest.WithoutRateLimit())
	dc := discordtest.NewServer(t)
	teams := teamstest.NewServer(t, teamstest.WithoutRateLimit())
	resend := emailtest.NewResend(t)
	hook := newReceiver(t)
	key, err := secretbox.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	token := "adm_browser-test-token-0123456789abcdef"
	env := map[string]string{
		"NOTIFICATIONS_NATS_URL":            n.URL(),
		"NOTIFICATIONS_DATABASE_URL":        testutil.NewDatabase(t),
		"NOTIFICATIONS_DATA_DIR":            t.TempDir(),
		"NOTIFICATIONS_HTTP_ADDR":           "127.0.0.1:0",
		"NOTIFICATIONS_ADMIN_TOKEN":         token,
		"NOTIFICATIONS_SECRETS_KEY":         key,
		"NOTIFICATIONS_SSRF_ALLOW":          "127.0.0.0/8",
		"NOTIFICATIONS_WEBHOOK_ENABLED":     "true",
		"NOTIFICATIONS_WEBHOOK_URL":         hook.URL + "/operator",
		"NOTIFICATIONS_WEBHOOK_SECRET":      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"NOTIFICATIONS_SLACK_ENABLED":       "true",
		"NOTIFICATIONS_SLACK_WEBHOOK_URL":   sl.NewWebhook("alerts"),
		"NOTIFICATIONS_DISCORD_ENABLED":     "true",
		"NOTIFICATIONS_DISCORD_WEBHOOK_URL": dc.WebhookURL(),
		"NOTIFICATIONS_TEAMS_ENABLED":       "true",
		"NOTIFICATIONS_TEAMS_WEBHOOK_URL":   teams.NewWorkflow("ops"),
		"NOTIFICATIONS_EMAIL_ENABLED":       "true",
		"NOTIFICATIONS_RESEND_API_URL":      resend.URL(),
		"NOTIFICATIONS_RESEND_API_KEY":      resend.APIKey(),
		"NOTIFICATIONS_EMAIL_FROM":          "Herald <alerts@herald.example>",
		"NOTIFICATIONS_EMAIL_TO":            `["ops@acme.example"]`,
		"NOTIFICATIONS_ROUTES":              `{"payment.*":["slack","discord","teams","email","webhook"],"*":["webhook"]}`,
		"NOTIFICATIONS_RETRY_BACKOFF":       "100ms,200ms",
		"NOTIFICATIONS_MAX_RETRIES":         "1",
		"NOTIFICATIONS_SEND_TIMEOUT":        "2s",
		"NOTIFICATIONS_RECORDER_FLUSH":      "20ms",
		"NOTIFICATIONS_LOG_LEVEL":           "warn",
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := obs.NewLogger(obs.LogConfig{Level: cfg.LogLevel, Format: "json", Secrets: cfg.Secrets(), Out: io.Discard})
	p, err := app.Start(context.Background(), cfg, app.Role{Name: "herald", Dispatcher: true, Channels: []string{"all"}, Parts: parts.All()}, log)
	if err != nil {
		t.Fatalf("start fleet: %v", err)
	}
	t.Cleanup(p.Stop)
	return &fleet{base: "http://" + p.HTTPAddr(), token: token, nats: n, slack: sl, hook: hook}
}

// publish publishes one event through the SDK, as a producer would.
func (f *fleet) publish(t *testing.T, tenant, typ string, data map[string]any) *sdk.Event {
	t.Helper()
	pub, err := sdk.NewPublisher(f.nats.Connect(t))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := sdk.New(typ, tenant, data, sdk.WithSource("billing"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(context.Background(), ev); err != nil {
		t.Fatalf("publish: %v", err)
	}
	return ev
}

// browser is one headless Chromium tab on the dashboard, failing the test on any script
// error and on any request to another host than the server's (the dashboard works offline).
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, base: base}
	if err := chromedp.Listen(ctx, b.watch); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	b.do(chromedp.EmulateViewport(1280, 800))
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errs {
			t.Errorf("browser: %s", e)
		}
	})
	return b
}

// watch runs in chromedp's event loop: it only records.
func (b *browser) watch(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		problem = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, d.Text)
		if d.Exception != nil && d.Exception.Description != "" {
			problem += " " + d.Exception.Description
		}
	case *network.EventRequestWillBeSent:
		u := ev.Request.URL
		if !strings.HasPrefix(u, b.base+"/") && !strings.HasPrefix(u, "data:") && u != "about:blank" && u != "about:srcdoc" {
			problem = "request to another host: " + u
		}
	}
	if problem != "" {
		b.mu.Lock()
		b.errs = append(b.errs, problem)
		b.mu.Unlock()
	}
}

// do runs actions, each bounded: a query whose element never comes fails the test rather
// than waiting for the test binary's deadline.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open shows a page of the dashboard (a fragment such as "#/dead") and waits for sel.
func (b *browser) open(fragment, sel string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + "/ui/" + fragment))
	b.until("the page "+fragment+" to show "+sel, fmt.Sprintf("!!document.querySelector(%q)", sel))
}

// until waits for a JavaScript expression to be true on the page, across navigations.
func (b *browser) until(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(browserWait)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			// Say where the page was, which is most of the diagnosis.
			where, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string]("location.href + '\\n' + document.body.innerText.slice(0, 2000)"))
			b.t.Fatalf("timed out after %s waiting for %s (%v); the page: %s", browserWait, what, err, where)
		}
		<-tick.C
	}
}

// click clicks the first element matching sel once it is there. It clicks through the DOM
// rather than at the element's coordinates, which a late layout change (a list that just
// arrived above it) could move between aiming and clicking.
func (b *browser) click(sel string) {
	b.t.Helper()
	b.until("an element to click: "+sel, fmt.Sprintf("!!document.querySelector(%q)", sel))
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf("document.querySelector(%q).click()", sel)))
}

func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value))
}

// text is the visible text of the first element matching sel.
func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf("(document.querySelector(%q)||{}).innerText||''", sel)))
	if err != nil {
		b.t.Fatalf("browser: %v", err)
	}
	return s
}

// shot saves a screenshot of the viewport as docs/screenshots/<name>.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	// Let the charts and rows that just arrived finish drawing.
	b.until("the page to settle", "document.readyState === 'complete'")
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(screenshotDir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screenshotDir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// TestDashboard walks the dashboard as an operator would, in headless Chromium against the
// whole fleet: sign in, find a failed delivery and see what was sent, redrive it and see it
// delivered, run a replay to the end, create a tenant's destination and receive its test
// event; a screenshot of every page on the way.
func TestDashboard(t *testing.T) {
	f := startFleet(t)
	b := newBrowser(t, f.base)

	// Signing in with a wrong token says so; the right one opens the overview.
	b.open("", "#token")
	b.until("the sign-in page", "location.pathname === '/ui/login'")
	b.fill("#token", "not-the-token")
	b.click("button[type=submit]")
	b.until("the refusal", "!!document.querySelector('#login-error')")
	b.shot("login")
	b.fill("#token", f.token)
	b.click("button[type=submit]")
	b.until("the overview's channel cards", "location.pathname === '/ui/' && !!document.querySelector('[data-channel=slack]') && !!document.querySelector('[data-channel=webhook]')")
	if who := b.text("#who"); who != "admin" {
		t.Errorf("signed in as %q, want admin", who)
	}

	// Slack refuses the first message for good: that delivery becomes a dead letter.
	f.slack.FailNext(http.StatusNotFound, "no_service")
	ev := f.publish(t, "acme", "payment.failed", map[string]any{"tenant_id": "acme", "reason": "card declined", "amount": 49.99})
	for _, typ := range []string{"order.shipped", "invoice.sent"} {
		f.publish(t, "acme", typ, map[string]any{"order": "A-1042", "carrier": "DHL"})
	}
	testutil.WaitFor(t, browserWait, "the operator's webhook to get the three events", func() bool { return f.hook.count("/operator", "") >= 3 })

	// The overview shows the dead letter within a status poll (5 s); opened again, it
	// charts the deliveries of the last minutes.
	b.until("the dead letter on the overview", "document.querySelector('[data-channel=slack]').classList.contains('has-dead')")
	b.open("", "[data-channel=slack]")
	b.until("the deliveries on the chart", "document.querySelector('[data-channel=webhook] .chart .label span:last-child').innerText !== '0/min'")
	b.until("the dead letter on the overview", "document.querySelector('[data-channel=slack]').classList.contains('has-dead')")
	b.until("the charts", "document.querySelectorAll('[data-channel=slack] canvas').length >= 2")
	b.shot("overview")
	b.do(chromedp.EmulateViewport(420, 900))
	b.until("the narrow layout", "window.innerWidth <= 420")
	b.shot("overview-narrow")
	b.do(chromedp.EmulateViewport(1280, 800))
	b.colorScheme("dark")
	b.open("", "[data-channel=slack] canvas")
	b.until("the dark theme", "getComputedStyle(document.body).backgroundColor === 'rgb(17, 20, 24)'")
	b.shot("overview-dark")
	b.colorScheme("")
	b.open("", "[data-channel=slack] canvas")

	// History, filtered as the API filters: the failed delivery is there.
	b.open("#/history", "form[role=search]")
	b.until("the history rows", "document.querySelectorAll('tbody tr[data-id]').length >= 4")
	// Live: an event published while the page is open shows up at the top by itself.
	live := f.publish(t, "acme", "order.packed", map[string]any{"order": "A-1043"})
	b.until("the new delivery at the top of the live history",
		fmt.Sprintf("(document.querySelector('tbody tr[data-id]')||{dataset:{}}).dataset.id === %q", live.ID+":webhook"))
	b.shot("history")
	b.do(chromedp.SetValue(chromedp.CSS("select[name=status]"), "failed,dead"))
	b.click("form[role=search] button[type=submit]")
	deadID := ev.ID + ":slack"
	b.until("the dead delivery alone in the filtered history",
		fmt.Sprintf("document.querySelectorAll('tbody tr[data-id]').length === 1 && !!document.querySelector('tr[data-id=%q]')", deadID))

	// Its page: the attempt with Slack's refusal, and the message as Slack shows it.
	b.click(fmt.Sprintf("tr[data-id=%q] a", deadID))
	b.until("the delivery's attempts", "!!document.querySelector('table[aria-label=Attempts] tbody tr')")
	if got := b.text("table[aria-label=Attempts]"); !strings.Contains(got, "no_service") {
		t.Errorf("the attempts do not show Slack's refusal:\n%s", got)
	}
	b.until("the Slack preview", "!!document.querySelector('.pv.slack')")
	if got := b.text(".pv.slack"); !strings.Contains(got, "card declined") {
		t.Errorf("the Slack preview does not show the event:\n%s", got)
	}
	b.shot("delivery")

	// The same event as Discord, Teams and email show it.
	for _, pv := range []struct{ channel, sel string }{
		{"discord", ".pv.discord"}, {"teams", ".pv.teams"}, {"email", ".pv.email .subject"},
	} {
		b.open("#/delivery/"+ev.ID+":"+pv.channel, "h1 .badge")
		b.until("the "+pv.channel+" preview", fmt.Sprintf("!!document.querySelector(%q)", pv.sel))
		if got := b.text(pv.sel); !strings.Contains(got, "49.99") {
			t.Errorf("the %s preview does not show the event:\n%s", pv.channel, got)
		}
		if pv.channel == "email" {
			b.until("the email's HTML in its sandbox", "document.querySelector('.pv.email iframe').getAttribute('sandbox') === '' && document.querySelector('.pv.email iframe').srcdoc.includes('card declined') && document.querySelector('.pv.email iframe').dataset.loaded === '1'")
			b.shot("delivery-email")
		}
	}

	// Dead letters: select it and redrive it; the outcome says so, and Slack gets it.
	b.open("#/dead", "table[aria-label='Dead letters']")
	b.until("the dead letter", fmt.Sprintf("!!document.querySelector('tr[data-id=%q]')", deadID))
	b.shot("dead-letters")
	b.click(fmt.Sprintf("tr[data-id=%q] input[type=checkbox]", deadID))
	b.click("#redrive")
	b.until("the redrive's outcome", "((document.querySelector('[role=status] .alert')||{}).innerText||'').startsWith('Redriven 1 dead letter')")
	testutil.WaitFor(t, browserWait, "Slack to get the redriven message", func() bool { return len(f.slack.Messages()) == 1 })
	b.open("#/delivery/"+deadID, "h1 .badge")
	b.until("the delivery to show delivered", "document.querySelector('h1 .badge').innerText === 'delivered'")

	// Replay the last hour to the webhook channel: the dry run counts, the run ends.
	before := f.hook.count("/operator", "")
	b.open("#/replay", "form[aria-label=Replay]")
	b.click("input[name=channel][value=webhook]")
	b.click("form[aria-label=Replay] button[type=button]")
	b.until("the dry run's count", "!!document.querySelector('#dry-run-count')")
	if got := b.text("#dry-run-count"); !strings.HasPrefix(got, "4 events match") {
		t.Errorf("dry run: %q, want 4 events", got)
	}
	b.click("form[aria-label=Replay] button[type=submit]")
	b.until("the replay to end", "(document.querySelector('#replay-job .badge')||{}).innerText === 'done'")
	testutil.WaitFor(t, browserWait, "the replayed webhooks", func() bool { return f.hook.count("/operator", "") >= before+4 })
	b.shot("replay")

	// A tenant's destination: create it, send it a test event, which arrives.
	b.open("#/destinations?tenant=acme", "section[aria-label='Destinations of acme']")
	b.until("the operator's destinations", "!!document.querySelector('table[aria-label=\"Operator destinations\"]')")
	b.click("section[aria-label='Destinations of acme'] button.primary")
	b.fill("form[aria-label='New destination'] input[name=id]", "ops-hook")
	b.fill("form[aria-label='New destination'] input[name='config.url']", f.hook.URL+"/acme")
	b.fill("form[aria-label='New destination'] input[name=event_types]", "payment.*")
	b.click("form[aria-label='New destination'] button[type=submit]")
	b.until("the new destination and its secret", "!!document.querySelector('tr[data-id=ops-hook]') && !!document.querySelector('.secret')")
	if s := b.text(".secret"); !strings.HasPrefix(s, "whsec_") {
		t.Errorf("the generated secret shows as %q", s)
	}
	b.click("tr[data-id=ops-hook] button[aria-label='Test ops-hook']")
	b.until("the test's outcome", "!!document.querySelector('tr[data-id=ops-hook] .test-outcome')")
	if got := b.text("tr[data-id=ops-hook] .test-outcome"); !strings.HasPrefix(got, "delivered") {
		t.Errorf("test send: %q, want delivered", got)
	}
	testutil.WaitFor(t, browserWait, "the tenant's destination to get the test event", func() bool { return f.hook.count("/acme", "herald.test") == 1 })
	b.shot("destinations")

	// Edit it, pause it, enable it again, rotate its secret.
	b.click("tr[data-id=ops-hook] button[aria-label='Edit ops-hook']")
	b.fill("form[aria-label='Edit ops-hook'] input[name=event_types]", "payment.*, order.*")
	b.click("form[aria-label='Edit ops-hook'] button[type=submit]")
	b.until("the edited event types", "(document.querySelector('tr[data-id=ops-hook] td:nth-child(3)')||{}).innerText === 'payment.*, order.*'")
	b.click("tr[data-id=ops-hook] button[aria-label='Disable ops-hook']")
	b.until("the destination paused", "(document.querySelector('tr[data-id=ops-hook] .badge')||{}).innerText === 'disabled: manual'")
	b.click("tr[data-id=ops-hook] button[aria-label='Enable ops-hook']")
	b.until("the destination enabled", "(document.querySelector('tr[data-id=ops-hook] .badge')||{}).innerText === 'enabled'")
	first := b.text(".secret")
	b.do(chromedp.Evaluate[chromedp.Void]("window.confirm = () => true")) // "Give ops-hook a new secret?", answered yes
	b.click("tr[data-id=ops-hook] button[aria-label='Rotate secret ops-hook']")
	b.until("the rotated secret", fmt.Sprintf("((document.querySelector('.secret')||{}).innerText||'').startsWith('whsec_') && document.querySelector('.secret').innerText !== %q", first))

	// Another refused message, discarded from the dead letters: gone, and said so.
	f.slack.FailNext(http.StatusNotFound, "no_service")
	ev2 := f.publish(t, "acme", "payment.failed", map[string]any{"tenant_id": "acme", "reason": "expired card", "amount": 5})
	dead2 := ev2.ID + ":slack"
	b.open("#/dead", "table[aria-label='Dead letters']")
	b.until("the second dead letter", fmt.Sprintf("!!document.querySelector('tr[data-id=%q]')", dead2))
	b.click(fmt.Sprintf("tr[data-id=%q] input[type=checkbox]", dead2))
	b.do(chromedp.Evaluate[chromedp.Void]("window.confirm = () => true")) // the "Discard?" question, answered yes
	b.click("#discard")
	b.until("the discard's outcome", "((document.querySelector('[role=status] .alert')||{}).innerText||'').startsWith('Discarded 1 dead letter')")
	b.until("the dead letters to be empty", "!document.querySelector('tbody tr[data-id]')")

	// Signed out, then in with a tenant key: the tenant's own pages only.
	b.click("#logout button")
	b.until("the sign-in page after signing out", "location.pathname === '/ui/login' && !!document.querySelector('#token')")
	b.fill("#token", f.tenantKey(t, "acme"))
	b.click("button[type=submit]")
	b.until("the tenant's navigation", "document.querySelectorAll('#nav a').length === 2 && document.querySelector('#who').innerText === 'tenant acme'")
	b.until("the tenant's history", "document.querySelectorAll('tbody tr[data-id]').length >= 4 && !document.querySelector('#nav a[href=\"#/dead\"]')")
	b.click(fmt.Sprintf("tr[data-id=%q] a", deadID))
	b.until("the tenant's view of a delivery and its preview", "document.querySelector('h1 .badge').innerText === 'delivered' && !!document.querySelector('.pv.slack')")
	if b.text("#dead-actions") != "" {
		t.Error("a tenant is offered to redrive or discard")
	}
	b.open("#/destinations", "section[aria-label='Destinations of acme']")
	b.until("the tenant's own destination", "!!document.querySelector('tr[data-id=ops-hook]')")
}

// colorScheme makes the page see prefers-color-scheme as scheme ("" for the system's).
func (b *browser) colorScheme(scheme string) {
	b.t.Helper()
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		b.t.Fatalf("emulate %q: %v", scheme, err)
	}
}

// tenantKey issues a key for tenant through the API, as an operator would.
func (f *fleet) tenantKey(t *testing.T, tenant string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.base+"/admin/tenants/"+tenant+"/keys", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+f.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var k struct {
		Key string `json:"key"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&k); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("issue a tenant key: %d %v", resp.StatusCode, err)
	}
	return k.Key
}
