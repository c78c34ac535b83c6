package api

import (
	"net/http"

	"github.com/heraldhq/herald/internal/control"
)

// replayInput is the body of POST /admin/notifications/replays: control.ReplayRequest with
// since and until that may also be durations ("2h": two hours ago). Until defaults to now.
type replayInput struct {
	Since        string   `json:"since"`
	Until        string   `json:"until"`
	Tenant       string   `json:"tenant"`
	EventTypes   []string `json:"event_types"`
	Channels     []string `json:"channels"`
	Destinations string   `json:"destinations"`
	DryRun       bool     `json:"dry_run"`
}

func (a *API) startReplay(w http.ResponseWriter, r *http.Request) error {
	var in replayInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	now := a.now()
	req := control.ReplayRequest{Tenant: in.Tenant, EventTypes: in.EventTypes, Channels: in.Channels,
		Destinations: in.Destinations, DryRun: in.DryRun}
	var err error
	if in.Since == "" {
		return invalid("since", "is required: an RFC 3339 time or a duration such as 2h")
	}
	if req.Since, err = timeParam("since", in.Since, now); err != nil {
		return err
	}
	if req.Until, err = timeParam("until", in.Until, now); err != nil {
		return err
	}
	if req.Until.IsZero() {
		req.Until = now
	}
	if !req.Until.After(req.Since) {
		return invalid("until", "must be after since")
	}
	switch in.Destinations {
	case "", "current", "original":
	default:
		return invalid("destinations", `must be "current" or "original"`)
	}
	if a.deps.Replays == nil {
		return unavailable("replays")
	}
	job, err := a.deps.Replays.Start(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, job)
	return nil
}

func (a *API) getReplay(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Replays == nil {
		return unavailable("replays")
	}
	job, err := a.deps.Replays.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}

func (a *API) cancelReplay(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Replays == nil {
		return unavailable("replays")
	}
	job, err := a.deps.Replays.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, job)
	return nil
}
