package discordtest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
	"github.com/heraldhq/herald/internal/channel/discord/discordtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// post sends body to url and returns the status, headers and decoded JSON answer.
func post(t *testing.T, url, contentType, body string) (int, http.Header, map[string]any) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	t.Cleanup(c.CloseIdleConnections)
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, raw := fakeprovider.Do(t, c, req)
	var out map[string]any
	if len(raw) > 0 {
		out = fakeprovider.DecodeJSON(t, raw)
	}
	return resp.StatusCode, resp.Header, out
}

const okEmbed = `{"username":"Herald","allowed_mentions":{"parse":[]},"embeds":[{"title":"t","description":"d","color":3900150,` +
	`"fields":[{"name":"a","value":"b","inline":true}],"footer":{"text":"f"},"timestamp":"2026-11-28T09:30:00Z"}]}`

func TestAcceptsValidMessage(t *testing.T) {
	t.Parallel()
	s := discordtest.NewServer(t)
	status, h, msg := post(t, s.Webhook().URL+"?wait=true", "application/json", okEmbed)
	if status != http.StatusOK {
		t.Fatalf("status %d: %v", status, msg)
	}
	if msg["id"] == "" || msg["channel_id"] != s.Webhook().ChannelID || msg["webhook_id"] != s.Webhook().ID {
		t.Errorf("message object lacks ids: %v", msg)
	}
	if embeds, _ := msg["embeds"].([]any); len(embeds) != 1 {
		t.Errorf("message object embeds = %v", msg["embeds"])
	}
	for _, k := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Reset-After", "X-RateLimit-Bucket"} {
		if h.Get(k) == "" {
			t.Errorf("header %s missing", k)
		}
	}
	if h.Get("X-RateLimit-Remaining") != strconv.Itoa(discordtest.DefaultBucketSize-1) {
		t.Errorf("X-RateLimit-Remaining = %q", h.Get("X-RateLimit-Remaining"))
	}
	status, _, _ = post(t, s.Webhook().URL, "application/json; charset=utf-8", okEmbed)
	if status != http.StatusNoContent {
		t.Fatalf("without wait: status %d, want 204", status)
	}
	msgs := s.Messages()
	if len(msgs) != 2 || msgs[0].Embeds[0].Fields[0].Name != "a" || msgs[0].Embeds[0].Footer.Text != "f" || !msgs[0].Wait || msgs[1].Wait {
		t.Fatalf("messages = %+v", msgs)
	}
	if len(s.Rejected()) != 0 {
		t.Fatalf("rejected = %+v", s.Rejected())
	}
}

func TestRejectsWhatDiscordRejects(t *testing.T) {
	t.Parallel()
	emoji := strings.Repeat("😀", 256)
	embedWith := func(inner string) string { return `{"embeds":[{` + inner + `}]}` }
	fields := func(n int) string {
		var fs []string
		for range n {
			fs = append(fs, `{"name":"n","value":"v"}`)
		}
		return embedWith(`"fields":[` + strings.Join(fs, ",") + `]`)
	}
	cases := []struct {
		name       string
		body       string
		wantCode   int
		wantPath   string // a path the errors object must name, if any
		wantStatus int
	}{
		{"invalid JSON", `{"embeds":`, discordtest.CodeInvalidJSON, "", 400},
		{"trailing data", okEmbed + `{}`, discordtest.CodeInvalidJSON, "", 400},
		{"empty message", `{"username":"Herald"}`, discordtest.CodeEmptyMessage, "", 400},
		{"blank content", `{"content":"   "}`, discordtest.CodeEmptyMessage, "", 400},
		{"not an object", `[]`, discordtest.CodeInvalidFormBody, "", 400},
		{"unknown top-level field", `{"content":"x","allowed_mention":{}}`, discordtest.CodeInvalidFormBody, "allowed_mention", 400},
		{"unknown embed field", embedWith(`"title":"x","colour":1`), discordtest.CodeInvalidFormBody, "embeds.0.colour", 400},
		{"video in webhook embed", embedWith(`"title":"x","video":{"url":"https://x.example"}`), discordtest.CodeInvalidFormBody, "embeds.0.video", 400},
		{"content 2001", `{"content":"` + strings.Repeat("a", 2001) + `"}`, discordtest.CodeInvalidFormBody, "content", 400},
		{"title 257", embedWith(`"title":"` + strings.Repeat("a", 257) + `"`), discordtest.CodeInvalidFormBody, "embeds.0.title", 400},
		{"title 257 emoji", embedWith(`"title":"` + emoji + `😀"`), discordtest.CodeInvalidFormBody, "embeds.0.title", 400},
		{"description 4097", embedWith(`"description":"` + strings.Repeat("é", 4097) + `"`), discordtest.CodeInvalidFormBody, "embeds.0.description", 400},
		{"26 fields", fields(26), discordtest.CodeInvalidFormBody, "embeds.0.fields", 400},
		{"empty field name", embedWith(`"fields":[{"name":"","value":"v"}]`), discordtest.CodeInvalidFormBody, "embeds.0.fields.0.name", 400},
		{"blank field value", embedWith(`"fields":[{"name":"n","value":" \n "}]`), discordtest.CodeInvalidFormBody, "embeds.0.fields.0.value", 400},
		{"missing field value", embedWith(`"fields":[{"name":"n"}]`), discordtest.CodeInvalidFormBody, "embeds.0.fields.0.value", 400},
		{"field value 1025", embedWith(`"fields":[{"name":"n","value":"` + strings.Repeat("v", 1025) + `"}]`), discordtest.CodeInvalidFormBody, "embeds.0.fields.0.value", 400},
		{"field name 257", embedWith(`"fields":[{"name":"` + strings.Repeat("n", 257) + `","value":"v"}]`), discordtest.CodeInvalidFormBody, "embeds.0.fields.0.name", 400},
		{"footer 2049", embedWith(`"footer":{"text":"` + strings.Repeat("f", 2049) + `"}`), discordtest.CodeInvalidFormBody, "embeds.0.footer.text", 400},
		{"6001 in total", embedWith(`"description":"` + strings.Repeat("d", 4096) + `","footer":{"text":"` + strings.Repeat("f", 1905) + `"}`),
			discordtest.CodeInvalidFormBody, "embeds", 400},
		{"6001 over two embeds", `{"embeds":[{"description":"` + strings.Repeat("d", 4000) + `"},{"description":"` + strings.Repeat("d", 2001) + `"}]}`,
			discordtest.CodeInvalidFormBody, "embeds", 400},
		{"11 embeds", `{"embeds":[` + strings.TrimSuffix(strings.Repeat(`{"title":"x"},`, 11), ",") + `]}`, discordtest.CodeInvalidFormBody, "embeds", 400},
		{"color too big", embedWith(`"title":"x","color":16777216`), discordtest.CodeInvalidFormBody, "embeds.0.color", 400},
		{"color not int", embedWith(`"title":"x","color":"red"`), discordtest.CodeInvalidFormBody, "embeds.0.color", 400},
		{"bad timestamp", embedWith(`"title":"x","timestamp":"yesterday"`), discordtest.CodeInvalidFormBody, "embeds.0.timestamp", 400},
		{"title not a string", embedWith(`"title":5`), discordtest.CodeInvalidFormBody, "embeds.0.title", 400},
		{"username with discord", `{"content":"x","username":"My Discord Bot"}`, discordtest.CodeInvalidFormBody, "username", 400},
		{"username empty", `{"content":"x","username":""}`, discordtest.CodeInvalidFormBody, "username", 400},
		{"username 81", `{"content":"x","username":"` + strings.Repeat("u", 81) + `"}`, discordtest.CodeInvalidFormBody, "username", 400},
		{"bad mention parse", `{"content":"x","allowed_mentions":{"parse":["here"]}}`, discordtest.CodeInvalidFormBody, "allowed_mentions.parse.0", 400},
		{"parse users and users", `{"content":"x","allowed_mentions":{"parse":["users"],"users":["1"]}}`, discordtest.CodeInvalidFormBody, "allowed_mentions", 400},
		{"bad image url", embedWith(`"title":"x","image":{"url":"javascript:alert(1)"}`), discordtest.CodeInvalidFormBody, "embeds.0.image.url", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := discordtest.NewServer(t)
			status, _, answer := post(t, s.Webhook().URL+"?wait=true", "application/json", c.body)
			if status != c.wantStatus {
				t.Fatalf("status %d, want %d: %v", status, c.wantStatus, answer)
			}
			if code, _ := answer["code"].(float64); int(code) != c.wantCode {
				t.Fatalf("code %v, want %d: %v", answer["code"], c.wantCode, answer)
			}
			if c.wantPath != "" {
				node, _ := answer["errors"].(map[string]any)
				for _, k := range strings.Split(c.wantPath, ".") {
					node, _ = node[k].(map[string]any)
				}
				if list, _ := node["_errors"].([]any); len(list) == 0 {
					t.Fatalf("errors object does not name %s: %v", c.wantPath, answer["errors"])
				}
			}
			if len(s.Messages()) != 0 || len(s.Invalid()) != 1 {
				t.Fatalf("messages %d, invalid %d; want 0 and 1", len(s.Messages()), len(s.Invalid()))
			}
			var ae *discordtest.APIError
			if err := discordtest.ValidatePayload([]byte(c.body)); !errors.As(err, &ae) || ae.Code != c.wantCode {
				t.Fatalf("ValidatePayload = %v, want code %d", err, c.wantCode)
			}
		})
	}
}

func TestLimitsAreCountedInCharacters(t *testing.T) {
	t.Parallel()
	// 256 emoji are 1024 bytes and 512 UTF-16 units, but 256 characters.
	body := `{"embeds":[{"title":"` + strings.Repeat("😀", 256) + `","fields":[{"name":"e\u0301","value":"` + strings.Repeat("ü", 1024) + `"}]}]}`
	if err := discordtest.ValidatePayload([]byte(body)); err != nil {
		t.Fatal(err)
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	s := discordtest.NewServer(t)
	wh := s.Webhook()
	cases := []struct {
		name, url, contentType string
		wantStatus, wantCode   int
	}{
		{"wrong token", s.URL + "/api/webhooks/" + wh.ID + "/wrongtoken", "application/json", 404, discordtest.CodeUnknownWebhook},
		{"unknown id", s.URL + "/api/webhooks/1/" + wh.Token, "application/json", 404, discordtest.CodeUnknownWebhook},
		{"not a webhook path", s.URL + "/api/hooks/" + wh.ID + "/" + wh.Token, "application/json", 404, discordtest.CodeGeneral},
		{"versioned path", s.URL + "/api/v10/webhooks/" + wh.ID + "/" + wh.Token, "application/json", 204, 0},
		{"form content type", wh.URL, "application/x-www-form-urlencoded", 400, discordtest.CodeInvalidFormBody},
		{"no content type", wh.URL, "", 400, discordtest.CodeInvalidFormBody},
		{"bad wait", wh.URL + "?wait=maybe", "application/json", 400, discordtest.CodeInvalidFormBody},
	}
	for _, c := range cases {
		status, _, answer := post(t, c.url, c.contentType, okEmbed)
		if status != c.wantStatus {
			t.Errorf("%s: status %d, want %d (%v)", c.name, status, c.wantStatus, answer)
			continue
		}
		if code, _ := answer["code"].(float64); c.wantCode != 0 && int(code) != c.wantCode {
			t.Errorf("%s: code %v, want %d", c.name, answer["code"], c.wantCode)
		}
	}
	for _, r := range s.Rejected() {
		if strings.Contains(r.Path, wh.Token) {
			t.Errorf("rejection path leaks the token: %s", r.Path)
		}
	}
}

func TestRateLimitBucket(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	s := discordtest.NewServer(t, discordtest.WithBucket(2, 2*time.Second), discordtest.WithClock(clock))
	other := s.AddWebhook()

	for i, want := range []string{"1", "0"} {
		status, h, _ := post(t, s.Webhook().URL, "application/json", okEmbed)
		if status != http.StatusNoContent || h.Get("X-RateLimit-Remaining") != want {
			t.Fatalf("request %d: status %d remaining %q, want 204 and %s", i, status, h.Get("X-RateLimit-Remaining"), want)
		}
	}
	advance(500 * time.Millisecond)
	status, h, answer := post(t, s.Webhook().URL, "application/json", okEmbed)
	if status != http.StatusTooManyRequests {
		t.Fatalf("third request: status %d, want 429", status)
	}
	if h.Get("Retry-After") != "2" || h.Get("X-RateLimit-Reset-After") != "1.500" || h.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429 headers: Retry-After %q Reset-After %q Remaining %q", h.Get("Retry-After"), h.Get("X-RateLimit-Reset-After"), h.Get("X-RateLimit-Remaining"))
	}
	if answer["retry_after"] != 1.5 || answer["global"] != false || answer["message"] == "" {
		t.Errorf("429 body = %v", answer)
	}
	// Another webhook has its own bucket.
	if status, _, _ := post(t, other.URL, "application/json", okEmbed); status != http.StatusNoContent {
		t.Errorf("other webhook: status %d, want 204", status)
	}
	advance(1500 * time.Millisecond)
	if status, _, _ := post(t, s.Webhook().URL, "application/json", okEmbed); status != http.StatusNoContent {
		t.Errorf("after the window: status %d, want 204", status)
	}
	if s.RateLimited() != 1 || len(s.Invalid()) != 0 || len(s.Rejected()) != 1 {
		t.Errorf("rate limited %d, invalid %d, rejected %d; want 1, 0, 1", s.RateLimited(), len(s.Invalid()), len(s.Rejected()))
	}
}

func TestInjection(t *testing.T) {
	t.Parallel()
	s := discordtest.NewServer(t)
	s.FailNext(http.StatusBadGateway, `{"message":"upstream","code":0}`)
	s.RespondNext(discordtest.Response{Status: http.StatusOK, Header: http.Header{"X-Ratelimit-Remaining": {"0"}}})
	if status, _, _ := post(t, s.Webhook().URL, "application/json", okEmbed); status != http.StatusBadGateway {
		t.Fatalf("first: status %d, want 502", status)
	}
	if status, h, _ := post(t, s.Webhook().URL, "application/json", okEmbed); status != http.StatusOK || h.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("second: status %d, remaining %q", status, h.Get("X-RateLimit-Remaining"))
	}
	s.SetHook(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		if r.URL.Query().Get("fail") == "" {
			return false
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	})
	if status, _, _ := post(t, s.Webhook().URL+"?fail=1", "application/json", okEmbed); status != http.StatusServiceUnavailable {
		t.Fatalf("hooked: status %d, want 503", status)
	}
	if status, _, _ := post(t, s.Webhook().URL, "application/json", okEmbed); status != http.StatusNoContent {
		t.Fatalf("unhooked: status %d, want 204", status)
	}
	if s.Injected() != 3 || s.Requests() != 4 || len(s.Messages()) != 1 {
		t.Fatalf("injected %d, requests %d, messages %d; want 3, 4, 1", s.Injected(), s.Requests(), len(s.Messages()))
	}
}

func TestWaitForMessages(t *testing.T) {
	t.Parallel()
	s := discordtest.NewServer(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c := &http.Client{Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		for range 3 {
			resp, err := c.Post(s.Webhook().URL, "application/json", strings.NewReader(okEmbed))
			if err == nil {
				_ = resp.Body.Close()
			}
		}
	}()
	if msgs := s.WaitForMessages(t, 3, 5*time.Second); len(msgs) != 3 {
		t.Fatalf("got %d messages", len(msgs))
	}
	<-done
}

func TestAPIErrorJSON(t *testing.T) {
	t.Parallel()
	e := &discordtest.APIError{Status: 400, Code: 50035, Message: "Invalid Form Body", Problems: []discordtest.Problem{
		{Path: "embeds.0.title", Code: "BASE_TYPE_MAX_LENGTH", Message: "Must be 256 or fewer in length."},
	}}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"message":"Invalid Form Body","code":50035,"errors":{"embeds":{"0":{"title":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 256 or fewer in length."}]}}}}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}
