package ops

import (
	"slices"
	"testing"

	"github.com/heraldhq/herald/internal/control"
)

// TestFilterSubjects checks the subject filters a replay reads EVENTS with: as narrow as
// the patterns allow, never overlapping (JetStream refuses overlapping filters).
func TestFilterSubjects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		tenant string
		types  []string
		want   []string
	}{
		{"", nil, []string{"herald.events.*.>"}},
		{"acme", nil, []string{"herald.events.acme.>"}},
		{"acme", []string{"payment.failed"}, []string{"herald.events.acme.payment.failed"}},
		{"", []string{"payment.*", "node.launched"}, []string{"herald.events.*.node.launched", "herald.events.*.payment.>"}},
		{"", []string{"payment.*", "payment.failed"}, []string{"herald.events.*.>"}}, // overlap
		{"", []string{"*"}, []string{"herald.events.*.>"}},
		{"", []string{"pay*"}, []string{"herald.events.*.>"}},
		{"", []string{"node.health_*"}, []string{"herald.events.*.>"}},
		{"", []string{"payment.[fs]*"}, []string{"herald.events.*.>"}},
	}
	for _, tc := range tests {
		j := &replayRun{replays: replays{&Service{cfg: Config{Prefix: "herald"}}}}
		j.job.Request = control.ReplayRequest{Tenant: tc.tenant, EventTypes: tc.types}
		for _, p := range tc.types {
			tf, err := parseTypePattern("", p)
			if err != nil {
				t.Fatal(err)
			}
			j.types = append(j.types, tf)
		}
		if got := j.filterSubjects(); !slices.Equal(got, tc.want) {
			t.Errorf("tenant %q, types %v: filters %v, want %v", tc.tenant, tc.types, got, tc.want)
		}
	}
}

func TestSubjectsOverlap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"a.b.c", "a.b.c", true},
		{"a.b.c", "a.b.d", false},
		{"a.*.c", "a.b.c", true},
		{"a.>", "a.b.c", true},
		{"a.b", "a.b.c", false},
		{"a.*.c", "a.b.>", true},
		{"x.>", "a.>", false},
	}
	for _, tc := range tests {
		if got := subjectsOverlap(tc.a, tc.b); got != tc.want {
			t.Errorf("subjectsOverlap(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
