package api

import (
	"net/http"

	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/sdk"
)

func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	if a.deps.Status == nil {
		return unavailable("status")
	}
	st, err := a.deps.Status.Status(r.Context())
	if err != nil {
		return err
	}
	if st.Channels == nil {
		st.Channels = []control.ChannelStatus{}
	}
	if st.Disabled == nil {
		st.Disabled = []control.Destination{}
	}
	for i := range st.Channels {
		if st.Channels[i].Destinations == nil {
			st.Channels[i].Destinations = []control.DestinationStatus{}
		}
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// testInput is the body of POST /admin/notifications/test: a channel's operator
// destinations, or one tenant destination.
type testInput struct {
	Channel     string `json:"channel"`
	Tenant      string `json:"tenant"`
	Destination string `json:"destination"`
}

// testOutcomes is the answer of POST /admin/notifications/test.
type testOutcomes struct {
	Outcomes []control.TestOutcome `json:"outcomes"`
}

func (a *API) testSend(w http.ResponseWriter, r *http.Request) error {
	var in testInput
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	var (
		out []control.TestOutcome
		err error
	)
	switch {
	case in.Channel != "" && (in.Tenant != "" || in.Destination != ""):
		return invalid("channel", `give either "channel" or "tenant" and "destination", not both`)
	case in.Channel != "":
		if a.deps.Tester == nil {
			return unavailable("channel tests")
		}
		out, err = a.deps.Tester.TestChannel(r.Context(), in.Channel)
	case in.Tenant == "" && in.Destination == "":
		return invalid("channel", `"channel", or "tenant" and "destination", is required`)
	case !sdk.ValidTenant(in.Tenant):
		return invalid("tenant", "a tenant id is required with destination")
	case in.Destination == "":
		return invalid("destination", "is required with tenant")
	default:
		if a.deps.Destinations == nil {
			return unavailable("tenant destinations")
		}
		var o control.TestOutcome
		o, err = a.deps.Destinations.Test(r.Context(), in.Tenant, in.Destination)
		out = []control.TestOutcome{o}
	}
	if err != nil {
		return err
	}
	if out == nil {
		out = []control.TestOutcome{}
	}
	writeJSON(w, http.StatusOK, testOutcomes{Outcomes: out})
	return nil
}
