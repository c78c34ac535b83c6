package main

import (
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/apiclient"
)

func TestAgo(t *testing.T) {
	base := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	saved := now
	now = func() time.Time { return base }
	t.Cleanup(func() { now = saved })
	for _, c := range []struct {
		at   time.Time
		want string
	}{
		{time.Time{}, "-"},
		{base.Add(-300 * time.Millisecond), "just now"},
		{base.Add(-42 * time.Second), "42s ago"},
		{base.Add(-5 * time.Minute), "5m ago"},
		{base.Add(-(119*time.Minute + 30*time.Second)), "1h59m ago"},
		{base.Add(-3 * time.Hour), "3h ago"},
		{base.Add(-(50 * time.Hour)), "2d2h ago"},
		{base.Add(2 * time.Hour), "in 2h"},
	} {
		if got := ago(c.at); got != c.want {
			t.Errorf("ago(%s) = %q, want %q", base.Sub(c.at), got, c.want)
		}
	}
}

func TestConfigJSON(t *testing.T) {
	f := destinationFlags{config: `{"url":"https://a.example","method":"POST"}`, set: []string{"method=PUT", `headers={"X-Team":"ops"}`, "to=[\"a@example.com\"]", "note=[not json"}}
	got, err := f.configJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"headers":{"X-Team":"ops"},"method":"PUT","note":"[not json","to":["a@example.com"],"url":"https://a.example"}`
	if string(got) != want {
		t.Errorf("configJSON = %s\nwant %s", got, want)
	}
	for _, bad := range []destinationFlags{{config: "[1]"}, {set: []string{"novalue"}}, {set: []string{"=x"}}} {
		if _, err := bad.configJSON(); !errors.As(err, new(*usageError)) {
			t.Errorf("configJSON(%+v) = %v, want a usage error", bad, err)
		}
	}
	if b, err := (&destinationFlags{}).configJSON(); b != nil || err != nil {
		t.Errorf("no config flags = %s, %v; want nil", b, err)
	}
}

func TestExitCodes(t *testing.T) {
	c := &ctl{ran: true}
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&apiclient.Error{Status: 400, Code: "invalid_request"}, exitAPIError},
		{&apiclient.Error{Status: 409, Code: "conflict"}, exitAPIError},
		{&apiclient.Error{Status: 500, Code: "internal"}, exitAPIError},
		{&apiclient.Error{Status: 401, Code: "unauthorized"}, exitAuth},
		{&apiclient.Error{Status: 403, Code: "forbidden"}, exitAuth},
		{&apiclient.Error{Status: 404, Code: "not_found"}, exitNotFound},
		{&apiclient.UnreachableError{URL: "http://x", Err: errors.New("refused")}, exitUnreachable},
		{usagef("bad"), exitUsage},
		{errAborted, exitAPIError},
	} {
		if got := c.exitCode(tc.err); got != tc.want {
			t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
	if got := (&ctl{}).exitCode(errors.New(`unknown command "x"`)); got != exitUsage {
		t.Errorf("an error before a command ran = %d, want %d", got, exitUsage)
	}
}
