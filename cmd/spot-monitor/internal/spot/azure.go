package spot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Azure reads the Scheduled Events of Azure's Instance Metadata Service, which answers only
// requests carrying Metadata: true (400 otherwise).
// https://learn.microsoft.com/azure/virtual-machines/linux/scheduled-events
//
// Azure announces the eviction of a spot VM as a Preempt event (at least 30 seconds ahead)
// and the deletion of a VM as a Terminate event (5 to 15 minutes ahead, as the VM's
// profile sets); both name, in NotBefore, the time before which they will not start.
// Events list the VMs they concern in Resources: the events of an availability set or
// scale set reach every VM in it, so those for other VMs are ignored.
//
// A VM may approve an event (POST StartRequests) to let Azure proceed at once. That only
// shortens the time the node's workloads have to move, so it is off unless asked for: it
// suits a node that drains in seconds and would rather be gone than wait.
type Azure struct {
	c *client

	name    string // the VM's name, as Resources lists it
	enabled bool   // a scheduled events call has answered
}

const (
	azureHeader          = "Metadata"
	azureEventsPath      = "/metadata/scheduledevents?api-version=2020-07-01"
	azureVMIDPath        = "/metadata/instance/compute/vmId?api-version=2021-02-01&format=text"
	azureNamePath        = "/metadata/instance/compute/name?api-version=2021-02-01&format=text"
	azureEventPreempt    = "Preempt"
	azureEventTerminate  = "Terminate"
	azureNotBeforeLayout = time.RFC1123 // "Mon, 19 Sep 2016 18:29:47 GMT"
	// azureFirstCallTimeout bounds the first scheduled events call: it turns the feature on
	// for the VM, and Azure warns that it may take up to two minutes to answer.
	azureFirstCallTimeout = 2 * time.Minute
)

// Cloud returns "azure".
func (a *Azure) Cloud() string { return CloudAzure }

// InstanceID returns the VM's vmId, a UUID, and learns its name to pick out its events.
func (a *Azure) InstanceID(ctx context.Context) (string, error) {
	id, err := a.text(ctx, azureVMIDPath)
	if err != nil {
		return "", err
	}
	if a.name, err = a.text(ctx, azureNamePath); err != nil {
		return "", err
	}
	return id, nil
}

// azureEvents is the scheduled events document.
type azureEvents struct {
	DocumentIncarnation int          `json:"DocumentIncarnation"`
	Events              []azureEvent `json:"Events"`
}

type azureEvent struct {
	EventID           string   `json:"EventId"`
	EventType         string   `json:"EventType"`
	ResourceType      string   `json:"ResourceType"`
	Resources         []string `json:"Resources"`
	EventStatus       string   `json:"EventStatus"`
	NotBefore         string   `json:"NotBefore"`
	Description       string   `json:"Description"`
	EventSource       string   `json:"EventSource"`
	DurationInSeconds int      `json:"DurationInSeconds"`
}

// Notices returns this VM's Preempt and Terminate events.
func (a *Azure) Notices(ctx context.Context) ([]Notice, error) {
	timeout := time.Duration(0)
	if !a.enabled {
		timeout = azureFirstCallTimeout
	}
	status, _, body, err := a.c.do(ctx, http.MethodGet, azureEventsPath, http.Header{azureHeader: {"true"}}, "", timeout)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &StatusError{http.MethodGet, azureEventsPath, status}
	}
	a.enabled = true
	var doc azureEvents
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("GET %s: decode: %w", azureEventsPath, err)
	}
	var out []Notice
	for _, e := range doc.Events {
		if e.EventType != azureEventPreempt && e.EventType != azureEventTerminate {
			continue // Reboot, Redeploy, Freeze: the node comes back
		}
		if len(e.Resources) > 0 && a.name != "" && !slices.Contains(e.Resources, a.name) {
			continue // another VM of the set
		}
		if e.EventID == "" {
			return nil, fmt.Errorf("GET %s: a %s event without EventId", azureEventsPath, e.EventType)
		}
		var notBefore time.Time
		if e.NotBefore != "" { // empty once the event has started
			if notBefore, err = time.Parse(azureNotBeforeLayout, e.NotBefore); err != nil {
				return nil, fmt.Errorf("GET %s: event %s: NotBefore: %w", azureEventsPath, e.EventID, err)
			}
		}
		reason := "Azure spot VM eviction (Preempt)"
		if e.EventType == azureEventTerminate {
			reason = "Azure VM deletion scheduled (Terminate)"
		}
		out = append(out, Notice{Key: e.EventID, Action: e.EventType, NotBefore: notBefore, Reason: reason})
	}
	return out, nil
}

// Acknowledge approves the event n with a StartRequests POST, letting Azure evict or
// delete the VM without waiting for NotBefore.
func (a *Azure) Acknowledge(ctx context.Context, n Notice) error {
	body, err := json.Marshal(map[string]any{"StartRequests": []map[string]string{{"EventId": n.Key}}})
	if err != nil {
		return err
	}
	status, _, _, err := a.c.do(ctx, http.MethodPost, azureEventsPath,
		http.Header{azureHeader: {"true"}, "Content-Type": {"application/json"}}, string(body), 0)
	if err != nil {
		return fmt.Errorf("approve event %s: %w", n.Key, err)
	}
	if status != http.StatusOK {
		return fmt.Errorf("approve event %s: %w", n.Key, &StatusError{http.MethodPost, azureEventsPath, status})
	}
	return nil
}

func (a *Azure) text(ctx context.Context, path string) (string, error) {
	status, _, body, err := a.c.do(ctx, http.MethodGet, path, http.Header{azureHeader: {"true"}}, "", 0)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", &StatusError{http.MethodGet, path, status}
	}
	s := strings.TrimSpace(string(body))
	if s == "" {
		return "", fmt.Errorf("GET %s: empty answer", path)
	}
	return s, nil
}

// probeAzure reports whether base answers as Azure's Instance Metadata Service.
func probeAzure(ctx context.Context, c *client) error {
	_, err := (&Azure{c: c}).text(ctx, azureVMIDPath)
	return err
}
