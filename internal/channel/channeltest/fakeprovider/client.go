package fakeprovider

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Do sends req with c, as a fake's own tests do to see its answers, failing the test if the
// request cannot be sent. It returns the answer with its body read and closed.
func Do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
		return nil, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read the answer: %v", err)
	}
	return resp, body
}

// DecodeJSON decodes body, a fake's answer, as a JSON object, failing the test if it is not
// one.
func DecodeJSON(t testing.TB, body []byte) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("answer %q is not JSON: %v", body, err)
	}
	return out
}
