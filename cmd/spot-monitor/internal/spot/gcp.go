package spot

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// GCP reads Compute Engine's metadata server, which answers only requests carrying
// Metadata-Flavor: Google (403 otherwise) and marks its answers with the same header.
// https://cloud.google.com/compute/docs/metadata/querying-metadata
//
// When Compute Engine preempts a spot VM it sends an ACPI soft-off signal and sets
// instance/preempted to TRUE: the VM has about 30 seconds before it is stopped or deleted.
// https://cloud.google.com/compute/docs/instances/spot#preemption-process
//
// The notice is read by plain polling. ?wait_for_change=true would learn of it sooner,
// but the poll interval is a few seconds of the 30, and one code path for three clouds is
// easier to trust.
type GCP struct {
	c      *client
	bootID string
	now    func() time.Time

	// seenAt is when this monitor first saw the flag set: Google announces no time, so the
	// 30 seconds are counted from here.
	seenAt time.Time
}

// GCPPreemptionNotice is the warning Compute Engine gives before it stops a spot VM.
// https://cloud.google.com/compute/docs/instances/spot#preemption-process
const GCPPreemptionNotice = 30 * time.Second

const (
	gcpFlavorHeader  = "Metadata-Flavor"
	gcpFlavor        = "Google"
	gcpIDPath        = "/computeMetadata/v1/instance/id"
	gcpPreemptedPath = "/computeMetadata/v1/instance/preempted"
)

// Cloud returns "gcp".
func (g *GCP) Cloud() string { return CloudGCP }

// InstanceID returns the instance's numeric id.
func (g *GCP) InstanceID(ctx context.Context) (string, error) {
	body, err := g.get(ctx, gcpIDPath)
	if err != nil {
		return "", err
	}
	id := strings.TrimSpace(body)
	if id == "" {
		return "", fmt.Errorf("GET %s: empty instance id", gcpIDPath)
	}
	return id, nil
}

// Notices returns the preemption notice when instance/preempted is TRUE.
func (g *GCP) Notices(ctx context.Context) ([]Notice, error) {
	body, err := g.get(ctx, gcpPreemptedPath)
	if err != nil {
		return nil, err
	}
	switch strings.TrimSpace(body) {
	case "FALSE":
		g.seenAt = time.Time{}
		return nil, nil
	case "TRUE":
	default:
		return nil, fmt.Errorf("GET %s: answered %q, want TRUE or FALSE", gcpPreemptedPath, strings.TrimSpace(body))
	}
	if g.seenAt.IsZero() {
		g.seenAt = g.now()
	}
	return []Notice{{
		// A VM is preempted at most once per boot, and a monitor restarted within the
		// same boot must derive the same key.
		Key:       "preempted/" + g.bootID,
		Action:    "preempted",
		NotBefore: g.seenAt.Add(GCPPreemptionNotice),
		Reason:    "GCP spot VM preempted",
	}}, nil
}

func (g *GCP) get(ctx context.Context, path string) (string, error) {
	status, h, body, err := g.c.do(ctx, http.MethodGet, path, http.Header{gcpFlavorHeader: {gcpFlavor}}, "", 0)
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", &StatusError{http.MethodGet, path, status}
	}
	if h.Get(gcpFlavorHeader) != gcpFlavor {
		return "", fmt.Errorf("GET %s: answer without %s: %s: %w", path, gcpFlavorHeader, gcpFlavor, errNoService)
	}
	return string(body), nil
}

// probeGCP reports whether base answers as Google's metadata server.
func probeGCP(ctx context.Context, c *client) error {
	_, err := (&GCP{c: c}).get(ctx, gcpIDPath)
	return err
}
