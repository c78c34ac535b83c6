package webhooktest_test

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/channel/webhook/webhooktest"
	"github.com/heraldhq/herald/sdk"
)

// post sends one signed (or, with signer nil, unsigned) request and returns the status and
// Retry-After header.
func post(t *testing.T, rcv *webhooktest.Receiver, signer *sdk.Signer, id string) (int, string) {
	t.Helper()
	body := []byte(`{"id":"` + id + `"}`)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, rcv.URL+"/hook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if signer != nil {
		signer.SetHeaders(req.Header, id, time.Now(), body)
	}
	resp, err := rcv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

func signerFor(t *testing.T, rcv *webhooktest.Receiver) *sdk.Signer {
	t.Helper()
	s, err := sdk.NewSigner(rcv.Secret())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReceiverFailFirst(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	rcv.FailFirst(2, http.StatusBadGateway)
	rcv.RetryAfter("9")
	s := signerFor(t, rcv)
	for _, id := range []string{"a", "b"} {
		for attempt, want := range []int{502, 502, 200, 200} {
			got, retryAfter := post(t, rcv, s, id)
			if got != want {
				t.Fatalf("%s attempt %d: status %d, want %d", id, attempt+1, got, want)
			}
			if (want != 200) != (retryAfter == "9") {
				t.Fatalf("%s attempt %d: Retry-After %q with status %d", id, attempt+1, retryAfter, got)
			}
		}
	}
	if rcv.Count() != 8 || rcv.Unique() != 2 || rcv.Delivered() != 2 || rcv.BadSignatures() != 0 {
		t.Fatalf("count=%d unique=%d delivered=%d bad=%d", rcv.Count(), rcv.Unique(), rcv.Delivered(), rcv.BadSignatures())
	}
	for id, reqs := range rcv.ByID() {
		for i, r := range reqs {
			if r.ID != id || r.Attempt != i+1 || r.Method != http.MethodPost || r.Path != "/hook" {
				t.Errorf("ByID[%s][%d] = id %q attempt %d %s %s", id, i, r.ID, r.Attempt, r.Method, r.Path)
			}
		}
	}
}

func TestReceiverAlwaysAndRespond(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	s := signerFor(t, rcv)
	rcv.Always(http.StatusGone)
	if got, _ := post(t, rcv, s, "x"); got != http.StatusGone {
		t.Fatalf("Always(410): got %d", got)
	}
	rcv.Respond(func(r *http.Request, body []byte, attempt int) int {
		if r.Header.Get(sdk.HeaderWebhookID) == "x" && attempt == 2 && bytes.Contains(body, []byte(`"x"`)) {
			return http.StatusAccepted
		}
		return http.StatusTeapot
	})
	if got, _ := post(t, rcv, s, "x"); got != http.StatusAccepted {
		t.Fatalf("Respond: got %d, want 202", got)
	}
	if rcv.Delivered() != 1 || rcv.Unique() != 1 {
		t.Fatalf("delivered=%d unique=%d, want 1 1", rcv.Delivered(), rcv.Unique())
	}
}

func TestReceiverRejectsBadSignatures(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	other, err := sdk.NewSigner(mustSecret(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sdk.Signer{nil, other} {
		if got, _ := post(t, rcv, s, "forged"); got != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", got)
		}
	}
	if rcv.BadSignatures() != 2 || rcv.Count() != 2 || rcv.Unique() != 0 || len(rcv.ByID()) != 0 {
		t.Fatalf("bad=%d count=%d unique=%d", rcv.BadSignatures(), rcv.Count(), rcv.Unique())
	}
	for _, r := range rcv.Requests() {
		if r.VerifyErr == nil || r.Attempt != 0 || r.Status != http.StatusUnauthorized {
			t.Errorf("rejected request recorded as %+v", r)
		}
	}
}

func TestReceiverRotation(t *testing.T) {
	t.Parallel()
	oldSecret, newSecret := mustSecret(t), mustSecret(t)
	rcv := webhooktest.NewReceiver(t, newSecret+" "+oldSecret)
	s, err := sdk.NewSigner(oldSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := post(t, rcv, s, "rot"); got != http.StatusOK {
		t.Fatalf("status %d, want 200", got)
	}
}

func TestReceiverWaitForUnique(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	s := signerFor(t, rcv)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			body := []byte(`{}`)
			id := fmt.Sprintf("id-%d", i)
			req, _ := http.NewRequest(http.MethodPost, rcv.URL, bytes.NewReader(body))
			s.SetHeaders(req.Header, id, time.Now(), body)
			if resp, err := rcv.Client().Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	rcv.WaitForUnique(t, n, 10*time.Second)
	rcv.WaitForDelivered(t, n, 10*time.Second)
	rcv.WaitForCount(t, n, 10*time.Second)
	wg.Wait()
}

// TestReceiverWaitTimesOut checks that a wait that cannot succeed fails the test instead of
// hanging.
func TestReceiverWaitTimesOut(t *testing.T) {
	t.Parallel()
	rcv := webhooktest.NewReceiver(t, "")
	ft := &fatalRecorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		rcv.WaitForUnique(ft, 1, 20*time.Millisecond)
	}()
	<-done
	if !ft.failed {
		t.Fatal("WaitForUnique returned without failing")
	}
}

// fatalRecorder records Fatalf and ends the goroutine as testing.T does.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(string, ...any) {
	f.failed = true
	runtime.Goexit()
}

func mustSecret(t *testing.T) string {
	t.Helper()
	s, err := sdk.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
