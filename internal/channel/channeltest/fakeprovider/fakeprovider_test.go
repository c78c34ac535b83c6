package fakeprovider_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldhq/herald/internal/channel/channeltest/fakeprovider"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder is a testing.TB that keeps what Fatalf says instead of ending the test, so that a
// test can check the message of a helper that fails.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = fmt.Sprintf(format, args...)
}

func TestLogWaitForWakesOnAccept(t *testing.T) {
	t.Parallel()
	log := fakeprovider.NewLog[string, int]("fake", "messages")
	done := make(chan []string)
	go func() { done <- log.WaitFor(t, 3, 10*time.Second) }()
	log.Reject(400)
	for i, m := range []string{"a", "b", "c", "d"} {
		if n := log.Accept(m); n != i+1 {
			t.Errorf("Accept(%q) = %d, want %d", m, n, i+1)
		}
	}
	got := <-done
	if len(got) < 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
		t.Fatalf("WaitFor returned %q, want at least a, b, c in order", got)
	}
	if n := log.Requests(); n != 5 {
		t.Errorf("Requests = %d, want 5 (4 accepted, 1 rejected)", n)
	}
	if r := log.Rejected(); len(r) != 1 || r[0] != 400 {
		t.Errorf("Rejected = %v, want [400]", r)
	}
	// The copies are the caller's.
	all := log.Accepted()
	all[0] = "changed"
	if log.Accepted()[0] != "a" {
		t.Error("Accepted returned the log's own slice")
	}
}

func TestLogWaitForReportsProgress(t *testing.T) {
	t.Parallel()
	log := fakeprovider.NewLog[string, string]("slacktest", "messages")
	log.Accept("one")
	log.Reject("too big")
	log.Reject("rate limited")
	r := &recorder{TB: t}
	if got := log.WaitFor(r, 2, 20*time.Millisecond); got != nil {
		t.Errorf("WaitFor returned %q after timing out, want nil", got)
	}
	want := "slacktest: timed out after 20ms with 1 of 2 messages (2 rejected)"
	if r.failed != want {
		t.Errorf("failure %q, want %q", r.failed, want)
	}
}

func TestLimiter(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	l := fakeprovider.NewLimiter(time.Second, 2)
	l.Add("a", start)
	for i, want := range []time.Duration{0, 0, time.Second} {
		if got := l.Take("a", start); got != want {
			t.Fatalf("take %d at the start: %s, want %s", i, got, want)
		}
	}
	if got := l.Take("a", start.Add(250*time.Millisecond)); got != 750*time.Millisecond {
		t.Errorf("a quarter token later: wait %s, want 750ms", got)
	}
	if got := l.Take("a", start.Add(time.Second)); got != 0 {
		t.Errorf("a token later: wait %s, want 0", got)
	}
	// A long pause refills to the burst, no further.
	later := start.Add(time.Hour)
	for i, want := range []time.Duration{0, 0, time.Second} {
		if got := l.Take("a", later); got != want {
			t.Fatalf("take %d after an hour: %s, want %s", i, got, want)
		}
	}
	// Keys are independent, and one never added starts full.
	if got := l.Take("b", start); got != 0 {
		t.Errorf("another key: wait %s, want 0", got)
	}
	// Add refills.
	l.Add("a", later)
	if got := l.Take("a", later); got != 0 {
		t.Errorf("after Add: wait %s, want 0", got)
	}
	none := fakeprovider.NewLimiter(0, 1)
	for range 100 {
		if got := none.Take("a", start); got != 0 {
			t.Fatalf("no limit: wait %s", got)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	for wait, want := range map[time.Duration]int{
		time.Nanosecond: 1, 999 * time.Millisecond: 1, time.Second: 1, 1001 * time.Millisecond: 2, time.Hour: 3600,
	} {
		if got := fakeprovider.RetryAfter(wait); got != want {
			t.Errorf("RetryAfter(%s) = %d, want %d", wait, got, want)
		}
	}
}

func TestQueue(t *testing.T) {
	t.Parallel()
	var q fakeprovider.Queue[string]
	if _, ok := q.Pop(); ok {
		t.Fatal("Pop of an empty queue succeeded")
	}
	for _, s := range []string{"a:1", "b:2", "a:3"} {
		q.Push(s)
	}
	if f, ok := q.PopFunc(func(s string) bool { return strings.HasPrefix(s, "b") }); !ok || f != "b:2" {
		t.Fatalf("PopFunc(b) = %q, %v", f, ok)
	}
	if _, ok := q.PopFunc(func(s string) bool { return strings.HasPrefix(s, "c") }); ok {
		t.Fatal("PopFunc matched nothing yet succeeded")
	}
	for _, want := range []string{"a:1", "a:3"} {
		if f, ok := q.Pop(); !ok || f != want {
			t.Fatalf("Pop = %q, %v, want %q", f, ok, want)
		}
	}
	if _, ok := q.Pop(); ok {
		t.Fatal("Pop after draining succeeded")
	}
}

func TestRandom(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		s := fakeprovider.Random(fakeprovider.Hex, 32)
		if len(s) != 32 || strings.Trim(s, fakeprovider.Hex) != "" {
			t.Fatalf("Random(Hex, 32) = %q", s)
		}
		if seen[s] {
			t.Fatalf("Random repeated %q", s)
		}
		seen[s] = true
	}
	if s := fakeprovider.Random(fakeprovider.UpperDigits, 8); len(s) != 8 || strings.Trim(s, fakeprovider.UpperDigits) != "" {
		t.Errorf("Random(UpperDigits, 8) = %q", s)
	}
}

func TestDo(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Method", r.Method)
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	c := &http.Client{}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPut, srv.URL, nil)
	resp, body := fakeprovider.Do(t, c, req)
	if resp.StatusCode != http.StatusTeapot || resp.Header.Get("X-Method") != "PUT" || string(body) != `{"ok":true}` {
		t.Fatalf("Do = %d %v %q", resp.StatusCode, resp.Header, body)
	}
	if got := fakeprovider.DecodeJSON(t, body); got["ok"] != true {
		t.Errorf("DecodeJSON = %v", got)
	}
	r := &recorder{TB: t}
	if got := fakeprovider.DecodeJSON(r, []byte("<html>")); got != nil || !strings.Contains(r.failed, "is not JSON") {
		t.Errorf("DecodeJSON of HTML = %v, failure %q", got, r.failed)
	}
}
