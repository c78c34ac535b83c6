package store_test

import (
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/store"
)

func TestCollapse(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 4, 5, 6, 7, 891234567, time.UTC)
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	res := func(id string, attempt int, status store.Status, s int) store.Result {
		return store.Result{DeliveryID: id, EventID: "e-" + id, Channel: "webhook",
			Attempt: attempt, Status: status, At: at(s)}
	}
	upd := func(r store.Result, first, last int) store.DeliveryUpdate {
		return store.DeliveryUpdate{Result: r, FirstAt: at(first), LastAt: at(last)}
	}
	withError := func(r store.Result, e string) store.Result { r.Error = e; return r }

	cases := []struct {
		name       string
		in         []store.Result
		deliveries []store.DeliveryUpdate
		attempts   []store.Result
	}{
		{
			name:       "fan-out only",
			in:         []store.Result{res("d1", 0, store.StatusPending, 0)},
			deliveries: []store.DeliveryUpdate{upd(res("d1", 0, store.StatusPending, 0), 0, 0)},
			attempts:   []store.Result{},
		},
		{
			name: "highest attempt wins in any order",
			in: []store.Result{
				res("d1", 2, store.StatusRetrying, 20),
				res("d1", 3, store.StatusDelivered, 30),
				res("d1", 0, store.StatusPending, 0),
				res("d1", 1, store.StatusRetrying, 10),
			},
			deliveries: []store.DeliveryUpdate{upd(res("d1", 3, store.StatusDelivered, 30), 0, 30)},
			attempts: []store.Result{
				res("d1", 1, store.StatusRetrying, 10),
				res("d1", 2, store.StatusRetrying, 20),
				res("d1", 3, store.StatusDelivered, 30),
			},
		},
		{
			name: "terminal status wins a tie",
			in: []store.Result{
				res("d1", 2, store.StatusRetrying, 20),
				res("d1", 2, store.StatusDead, 21),
			},
			deliveries: []store.DeliveryUpdate{upd(res("d1", 2, store.StatusDead, 21), 20, 21)},
			attempts:   []store.Result{res("d1", 2, store.StatusRetrying, 20)},
		},
		{
			name: "first seen stays on a tie between terminal statuses",
			in: []store.Result{
				withError(res("d1", 1, store.StatusFailed, 10), "HTTP 400"),
				res("d1", 1, store.StatusDelivered, 11),
			},
			deliveries: []store.DeliveryUpdate{upd(withError(res("d1", 1, store.StatusFailed, 10), "HTTP 400"), 10, 11)},
			attempts:   []store.Result{withError(res("d1", 1, store.StatusFailed, 10), "HTTP 400")},
		},
		{
			name: "first seen stays on a tie between non-terminal statuses",
			in: []store.Result{
				withError(res("d1", 1, store.StatusRetrying, 10), "first"),
				withError(res("d1", 1, store.StatusRetrying, 5), "second"),
			},
			deliveries: []store.DeliveryUpdate{upd(withError(res("d1", 1, store.StatusRetrying, 10), "first"), 5, 10)},
			attempts:   []store.Result{withError(res("d1", 1, store.StatusRetrying, 10), "first")},
		},
		{
			name: "deliveries and attempts in key order",
			in: []store.Result{
				res("d2", 1, store.StatusDelivered, 2),
				res("d1", 2, store.StatusDelivered, 4),
				res("d1", 1, store.StatusRetrying, 3),
			},
			deliveries: []store.DeliveryUpdate{
				upd(res("d1", 2, store.StatusDelivered, 4), 3, 4),
				upd(res("d2", 1, store.StatusDelivered, 2), 2, 2),
			},
			attempts: []store.Result{
				res("d1", 1, store.StatusRetrying, 3),
				res("d1", 2, store.StatusDelivered, 4),
				res("d2", 1, store.StatusDelivered, 2),
			},
		},
		{
			name: "winner's empty identity filled from the others",
			in: []store.Result{
				{DeliveryID: "d1", EventID: "e1", TenantID: "t1", EventType: "x", Channel: "webhook",
					Destination: "dest", Status: store.StatusPending, At: at(0)},
				{DeliveryID: "d1", Attempt: 1, Status: store.StatusDelivered, At: at(1)},
			},
			deliveries: []store.DeliveryUpdate{{
				Result: store.Result{DeliveryID: "d1", EventID: "e1", TenantID: "t1", EventType: "x",
					Channel: "webhook", Destination: "dest", Attempt: 1, Status: store.StatusDelivered, At: at(1)},
				FirstAt: at(0), LastAt: at(1),
			}},
			attempts: []store.Result{{DeliveryID: "d1", Attempt: 1, Status: store.StatusDelivered, At: at(1)}},
		},
		{
			name: "times stamped, made UTC and truncated",
			in: []store.Result{
				{DeliveryID: "d1", Attempt: 1, Status: store.StatusRetrying},
				{DeliveryID: "d1", Attempt: 2, Status: store.StatusRetrying,
					At: time.Date(2025, 3, 4, 7, 6, 7, 999999999, time.FixedZone("CET+2", 2*3600))},
			},
			deliveries: []store.DeliveryUpdate{{
				Result: store.Result{DeliveryID: "d1", Attempt: 2, Status: store.StatusRetrying,
					At: time.Date(2025, 3, 4, 5, 6, 7, 999999000, time.UTC)},
				FirstAt: time.Date(2025, 3, 4, 5, 6, 7, 891234000, time.UTC),
				LastAt:  time.Date(2025, 3, 4, 5, 6, 7, 999999000, time.UTC),
			}},
			attempts: []store.Result{
				{DeliveryID: "d1", Attempt: 1, Status: store.StatusRetrying, At: time.Date(2025, 3, 4, 5, 6, 7, 891234000, time.UTC)},
				{DeliveryID: "d1", Attempt: 2, Status: store.StatusRetrying, At: time.Date(2025, 3, 4, 5, 6, 7, 999999000, time.UTC)},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := store.Collapse(tc.in, now)
			if err != nil {
				t.Fatalf("Collapse: %v", err)
			}
			if !reflect.DeepEqual(b.Deliveries, tc.deliveries) {
				t.Errorf("Deliveries =\n%+v\nwant\n%+v", b.Deliveries, tc.deliveries)
			}
			if !reflect.DeepEqual(b.Attempts, tc.attempts) {
				t.Errorf("Attempts =\n%+v\nwant\n%+v", b.Attempts, tc.attempts)
			}
		})
	}
}

func TestCollapseRejects(t *testing.T) {
	t.Parallel()
	valid := store.Result{DeliveryID: "d0", Attempt: 1, Status: store.StatusDelivered}
	cases := []struct {
		name string
		r    store.Result
		want string
	}{
		{"empty delivery id", store.Result{Status: store.StatusPending}, "empty delivery id"},
		{"negative attempt", store.Result{DeliveryID: "d1", Attempt: -1, Status: store.StatusRetrying}, "attempt out of range"},
		{"attempt beyond int32", store.Result{DeliveryID: "d1", Attempt: math.MaxInt32 + 1, Status: store.StatusRetrying}, "attempt out of range"},
		{"negative http status", store.Result{DeliveryID: "d1", Attempt: 1, Status: store.StatusFailed, HTTPStatus: -1}, "http status -1 out of range"},
		{"unknown status", store.Result{DeliveryID: "d1", Attempt: 1, Status: "sent"}, `unknown status "sent"`},
		{"empty status", store.Result{DeliveryID: "d1", Attempt: 1}, `unknown status ""`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := store.ValidateResult(tc.r); err == nil || err.Error() != tc.want {
				t.Errorf("ValidateResult = %v, want %q", err, tc.want)
			}
			// One malformed result fails the whole batch, and the error says which.
			b, err := store.Collapse([]store.Result{valid, tc.r}, time.Now())
			if err == nil {
				t.Fatalf("Collapse accepted it: %+v", b)
			}
			if !strings.HasPrefix(err.Error(), "result 1 ") || !strings.HasSuffix(err.Error(), tc.want) {
				t.Errorf("Collapse error = %q", err)
			}
		})
	}
	if err := store.ValidateResult(valid); err != nil {
		t.Errorf("ValidateResult(%+v) = %v", valid, err)
	}
}
