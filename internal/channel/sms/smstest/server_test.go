package smstest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
	"github.com/heraldhq/herald/internal/channel/sms/smstest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// post sends one Messages API request and returns the status and Twilio's decoded answer.
func post(t *testing.T, c *http.Client, rawURL, user, pass, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, b := fakeprovider.Do(t, c, req)
	return resp.StatusCode, fakeprovider.DecodeJSON(t, b)
}

func form(to, from, body string) string {
	return url.Values{"To": {to}, "From": {from}, "Body": {body}}.Encode()
}

// TestFakeRejectsWhatTwilioRefuses proves that the fake can fail a test: every request
// Twilio would refuse is answered with Twilio's status and JSON error, and recorded.
func TestFakeRejectsWhatTwilioRefuses(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	c := &http.Client{}
	t.Cleanup(c.CloseIdleConnections)
	acct := srv.NewAccount()
	other := srv.NewAccount()
	path := srv.URL + "/2010-04-01/Accounts/" + acct.SID + "/Messages.json"
	const to = "+14155550100"
	cases := []struct {
		name              string
		url, user, pass   string
		ctype, body       string
		status, code      int
		messageContaining string
	}{
		{"no credentials", path, "", "", smstest.FormContentType, form(to, acct.From, "hi"), 401, 20003, "Authenticate"},
		{"wrong token", path, acct.SID, other.AuthToken, smstest.FormContentType, form(to, acct.From, "hi"), 401, 20003, "Authenticate"},
		{"another account's path", srv.URL + "/2010-04-01/Accounts/" + other.SID + "/Messages.json", acct.SID, acct.AuthToken, smstest.FormContentType, form(to, acct.From, "hi"), 401, 20003, "Authenticate"},
		{"unknown path", srv.URL + "/2010-04-01/Accounts/" + acct.SID + "/SMS/Messages.json", acct.SID, acct.AuthToken, smstest.FormContentType, form(to, acct.From, "hi"), 404, 20404, "was not found"},
		{"JSON body", path, acct.SID, acct.AuthToken, "application/json", `{"To":"` + to + `","From":"` + acct.From + `","Body":"hi"}`, 400, 21604, "'To' phone number is required"},
		{"no To", path, acct.SID, acct.AuthToken, smstest.FormContentType, url.Values{"From": {acct.From}, "Body": {"hi"}}.Encode(), 400, 21604, "'To' phone number is required"},
		{"To not E.164", path, acct.SID, acct.AuthToken, smstest.FormContentType, form("4155550100", acct.From, "hi"), 400, 21211, "is not a valid phone number"},
		{"To too short", path, acct.SID, acct.AuthToken, smstest.FormContentType, form("+1415555", acct.From, "hi"), 400, 21211, "is not a valid phone number"},
		{"no From", path, acct.SID, acct.AuthToken, smstest.FormContentType, url.Values{"To": {to}, "Body": {"hi"}}.Encode(), 400, 21603, "'From' phone number is required"},
		{"From not E.164", path, acct.SID, acct.AuthToken, smstest.FormContentType, form(to, "15005550006", "hi"), 400, 21212, "is not a valid phone number"},
		{"From of another account", path, acct.SID, acct.AuthToken, smstest.FormContentType, form(to, other.From, "hi"), 400, 21606, "SMS-capable"},
		{"To is From", path, acct.SID, acct.AuthToken, smstest.FormContentType, form(acct.From, acct.From, "hi"), 400, 21266, "cannot be the same"},
		{"no Body", path, acct.SID, acct.AuthToken, smstest.FormContentType, url.Values{"To": {to}, "From": {acct.From}}.Encode(), 400, 21602, "body is required"},
		{"Body too long", path, acct.SID, acct.AuthToken, smstest.FormContentType, form(to, acct.From, strings.Repeat("x", 1601)), 400, 21617, "exceeds the 1600 character limit"},
		{"emoji count twice", path, acct.SID, acct.AuthToken, smstest.FormContentType, form(to, acct.From, strings.Repeat("🔥", 801)), 400, 21617, "exceeds the 1600 character limit"},
		{"To given twice", path, acct.SID, acct.AuthToken, smstest.FormContentType, form(to, acct.From, "hi") + "&To=%2B14155550101", 400, 21211, "given 2 times"},
	}
	for _, c2 := range cases {
		status, ans := post(t, c, c2.url, c2.user, c2.pass, c2.ctype, c2.body)
		code, _ := ans["code"].(float64)
		msg, _ := ans["message"].(string)
		if status != c2.status || int(code) != c2.code || !strings.Contains(msg, c2.messageContaining) {
			t.Errorf("%s: answered %d %v, want %d with code %d and a message containing %q", c2.name, status, ans, c2.status, c2.code, c2.messageContaining)
		}
		if s, _ := ans["status"].(float64); int(s) != status || ans["more_info"] == nil {
			t.Errorf("%s: error body %v lacks Twilio's status or more_info", c2.name, ans)
		}
	}
	if got := len(srv.Rejected()); got != len(cases) {
		t.Errorf("fake recorded %d rejections, want %d", got, len(cases))
	}
	if len(srv.Messages()) != 0 {
		t.Errorf("fake accepted %d messages, want none", len(srv.Messages()))
	}

	// A method other than POST on the resource.
	req, _ := http.NewRequest(http.MethodPut, path, strings.NewReader(form(to, acct.From, "hi")))
	req.SetBasicAuth(acct.SID, acct.AuthToken)
	if resp, _ := fakeprovider.Do(t, c, req); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT answered %d, want 405", resp.StatusCode)
	}
}

// TestFakeAcceptsAndRecords checks the accepted answer: 201 with a queued Message resource,
// and the message recorded with its segments.
func TestFakeAcceptsAndRecords(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	c := &http.Client{}
	t.Cleanup(c.CloseIdleConnections)
	acct := srv.NewAccount()
	path := srv.URL + "/2010-04-01/Accounts/" + acct.SID + "/Messages.json"
	body := strings.Repeat("x", 1600)
	status, ans := post(t, c, path, acct.SID, acct.AuthToken, smstest.FormContentType+"; charset=utf-8", form("+14155550100", acct.From, body))
	if status != http.StatusCreated || ans["status"] != "queued" || ans["to"] != "+14155550100" || !strings.HasPrefix(ans["sid"].(string), "SM") {
		t.Fatalf("answered %d %v, want 201 with a queued message", status, ans)
	}
	msgs := srv.WaitForMessages(t, 1, time.Second)
	if msgs[0].Body != body || msgs[0].Segments != 11 || msgs[0].Encoding != smstest.GSM7 {
		t.Errorf("recorded %+v, want the body in 11 GSM-7 segments", msgs[0])
	}
}

// TestFakeRefusedNumbers checks Refuse and Accept.
func TestFakeRefusedNumbers(t *testing.T) {
	t.Parallel()
	srv := smstest.NewServer(t, smstest.WithoutRateLimit())
	c := &http.Client{}
	t.Cleanup(c.CloseIdleConnections)
	acct := srv.NewAccount()
	path := srv.URL + "/2010-04-01/Accounts/" + acct.SID + "/Messages.json"
	srv.Refuse("+14155550100", smstest.CodeUnsubscribed)
	if status, ans := post(t, c, path, acct.SID, acct.AuthToken, smstest.FormContentType, form("+14155550100", acct.From, "hi")); status != 400 || ans["code"] != float64(21610) {
		t.Errorf("refused number: %d %v, want 400 21610", status, ans)
	}
	srv.Accept("+14155550100")
	if status, _ := post(t, c, path, acct.SID, acct.AuthToken, smstest.FormContentType, form("+14155550100", acct.From, "hi")); status != 201 {
		t.Errorf("accepted again: %d, want 201", status)
	}
}

// TestFakeRateLimit checks the per-account limit: 429 with error 20429, Retry-After only when
// asked for.
func TestFakeRateLimit(t *testing.T) {
	t.Parallel()
	for _, withHeader := range []bool{false, true} {
		opts := []smstest.Option{smstest.WithRateLimit(time.Minute, 2)}
		if withHeader {
			opts = append(opts, smstest.WithRetryAfter())
		}
		srv := smstest.NewServer(t, opts...)
		c := &http.Client{}
		acct := srv.NewAccount()
		path := srv.URL + "/2010-04-01/Accounts/" + acct.SID + "/Messages.json"
		for i := range 3 {
			req, _ := http.NewRequest(http.MethodPost, path, strings.NewReader(form("+14155550100", acct.From, "hi")))
			req.SetBasicAuth(acct.SID, acct.AuthToken)
			req.Header.Set("Content-Type", smstest.FormContentType)
			resp, _ := fakeprovider.Do(t, c, req)
			want := http.StatusCreated
			if i == 2 {
				want = http.StatusTooManyRequests
			}
			if resp.StatusCode != want {
				t.Fatalf("request %d: %d, want %d", i, resp.StatusCode, want)
			}
			if i == 2 && (resp.Header.Get("Retry-After") != "") != withHeader {
				t.Errorf("Retry-After = %q with WithRetryAfter %v", resp.Header.Get("Retry-After"), withHeader)
			}
		}
		c.CloseIdleConnections()
	}
}

func TestSegments(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body string
		n    int
		enc  smstest.Encoding
	}{
		{"hello", 1, smstest.GSM7},
		{strings.Repeat("a", 160), 1, smstest.GSM7},
		{strings.Repeat("a", 161), 2, smstest.GSM7},
		{strings.Repeat("€", 80), 1, smstest.GSM7}, // an extension character takes two septets
		{strings.Repeat("€", 81), 2, smstest.GSM7},
		{"café…", 1, smstest.UCS2},
		{strings.Repeat("a", 70) + "·", 2, smstest.UCS2},
		{strings.Repeat("🔥", 35), 1, smstest.UCS2},
	}
	for _, c := range cases {
		if n, enc := smstest.Segments(c.body); n != c.n || enc != c.enc {
			t.Errorf("Segments(%.20q…) = %d %s, want %d %s", c.body, n, enc, c.n, c.enc)
		}
	}
}
