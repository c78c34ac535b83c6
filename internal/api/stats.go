package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/heraldhq/herald/internal/control"
)

// The bounds of the charts' query parameters.
const (
	// MaxStatsSince is how far back since may reach.
	MaxStatsSince = 24 * time.Hour
	// MinStatsStep and MaxStatsStep bound step.
	MinStatsStep = 10 * time.Second
	MaxStatsStep = time.Hour
	// MaxStatsPoints is the most points a channel may have: since / step, rounded up.
	MaxStatsPoints = 1000
)

// stats answers GET /admin/notifications/stats: since (default 1h) and step (default 1m).
// The first step starts at since rounded down to a multiple of step since 1970, so that the
// steps of successive polls coincide and a chart only grows at its newest point.
func (a *API) stats(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	now := a.now().UTC()
	step := time.Minute
	if v := q.Get("step"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < MinStatsStep || d > MaxStatsStep || d%time.Second != 0 {
			return invalid("step", fmt.Sprintf("%q is not a duration from 10s to 1h in whole seconds, such as 1m", v))
		}
		step = d
	}
	v := q.Get("since")
	if v == "" {
		v = "1h"
	}
	since, err := timeParam("since", v, now)
	if err != nil {
		return err
	}
	switch {
	case !since.Before(now):
		return invalid("since", "must be before now")
	case now.Sub(since) > MaxStatsSince:
		return invalid("since", "may reach back 24h at most")
	}
	sec := int64(step / time.Second)
	start := time.Unix(since.Unix()-since.Unix()%sec, 0).UTC()
	if n := (now.Sub(start) + step - 1) / step; n > MaxStatsPoints {
		return invalid("step", fmt.Sprintf("gives %d points per channel, more than %d: take a longer step or a later since", n, MaxStatsPoints))
	}
	if a.deps.Stats == nil {
		return unavailable("delivery stats")
	}
	st, err := a.deps.Stats.Stats(r.Context(), control.StatsQuery{Since: start, Until: now, Step: step, Channel: q.Get("channel")})
	if err != nil {
		return err
	}
	if st.Channels == nil {
		st.Channels = []control.ChannelStats{}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}
