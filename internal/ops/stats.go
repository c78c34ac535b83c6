package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
)

var _ control.StatsReader = (*Service)(nil)

// Stats answers the dashboard's charts with one ledger query (store.StatsSQL): the counts of
// the steps that have deliveries, spread over every step of the window, zeros included, for
// the queried channel or for every channel of the fleet and any other the ledger names.
// q.Since should be a multiple of q.Step since 1970 (the API aligns it) so that the steps of
// successive polls coincide.
func (s *Service) Stats(ctx context.Context, q control.StatsQuery) (control.Stats, error) {
	ledger, ok := s.deps.Ledger.(store.StatsStore)
	if !ok {
		return control.Stats{}, errors.New("stats: the ledger has no stats query")
	}
	if q.Step < time.Second || !q.Until.After(q.Since) {
		return control.Stats{}, fmt.Errorf("stats: an empty window or a step under a second (%v, %v, %v)", q.Since, q.Until, q.Step)
	}
	counts, err := ledger.Stats(ctx, store.StatsQuery{Since: q.Since, Until: q.Until, Step: q.Step, Channel: q.Channel})
	if err != nil {
		return control.Stats{}, fmt.Errorf("stats: %w", err)
	}
	since := q.Since.UTC().Truncate(time.Second)
	n := int((q.Until.Sub(since) + q.Step - 1) / q.Step)
	channels := []string{q.Channel}
	if q.Channel == "" {
		channels = slices.Clone(s.cfg.Channels)
		for _, c := range counts {
			if !slices.Contains(channels, c.Channel) {
				channels = append(channels, c.Channel)
			}
		}
		slices.Sort(channels)
	}
	out := control.Stats{StepSeconds: int64(q.Step / time.Second), Since: since, Until: q.Until.UTC(),
		Channels: make([]control.ChannelStats, len(channels))}
	index := make(map[string]int, len(channels))
	for i, name := range channels {
		index[name] = i
		points := make([]control.StatsPoint, n)
		for j := range points {
			points[j].T = since.Add(time.Duration(j) * q.Step)
		}
		out.Channels[i] = control.ChannelStats{Channel: name, Points: points}
	}
	for _, c := range counts {
		i, ok := index[c.Channel]
		j := int(c.At.Sub(since) / q.Step)
		if !ok || j < 0 || j >= n {
			continue
		}
		p := &out.Channels[i].Points[j]
		switch c.Status {
		case store.StatusDelivered:
			p.Delivered += c.Count
		case store.StatusFailed:
			p.Failed += c.Count
		case store.StatusDead:
			p.Dead += c.Count
		case store.StatusRetrying:
			p.Retrying += c.Count
		}
	}
	return out, nil
}
