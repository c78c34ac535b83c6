package store_test

import (
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

func TestFilterWhere(t *testing.T) {
	t.Parallel()
	since := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	dollar := func(n int) string { return "$" + strconv.Itoa(n) }
	question := func(int) string { return "?" }
	asTime := func(t time.Time) any { return t }
	asText := func(t time.Time) any { return t.Format(time.RFC3339) }
	cases := []struct {
		name        string
		f           store.Filter
		placeholder func(int) string
		timeArg     func(time.Time) any
		where       string
		args        []any
	}{
		{"nothing", store.Filter{Limit: 5}, dollar, asTime, "", nil},
		{"one field", store.Filter{Channel: "webhook"}, dollar, asTime, " WHERE channel = $1", []any{"webhook"}},
		{
			"every field, numbered", store.Filter{TenantID: "t", EventType: "x", Channel: "c",
				Status: store.StatusDead, EventID: "e", Since: since}, dollar, asTime,
			" WHERE tenant_id = $1 AND event_type = $2 AND channel = $3 AND status = $4 AND event_id = $5 AND created_at >= $6",
			[]any{"t", "x", "c", "dead", "e", since},
		},
		{
			"positional, time encoded", store.Filter{EventType: "x", Since: since}, question, asText,
			" WHERE event_type = ? AND created_at >= ?", []any{"x", "2025-01-02T03:04:05Z"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			where, args := tc.f.Where(tc.placeholder, tc.timeArg)
			if where != tc.where || !reflect.DeepEqual(args, tc.args) {
				t.Errorf("Where = %q, %#v\nwant %q, %#v", where, args, tc.where, tc.args)
			}
		})
	}
}

func TestFilterRowLimit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ limit, want int }{
		{0, 100}, {-1, 100}, {1, 1}, {100, 100}, {1000, 1000}, {1001, 1000},
	} {
		if got := (store.Filter{Limit: tc.limit}).RowLimit(); got != tc.want {
			t.Errorf("Filter{Limit: %d}.RowLimit() = %d, want %d", tc.limit, got, tc.want)
		}
	}
}
