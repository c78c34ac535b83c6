package spot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// DefaultProbeTimeout bounds each probe of Detect: on the instance, a metadata service
// answers in milliseconds, and elsewhere its address does not answer at all.
const DefaultProbeTimeout = time.Second

// ErrNoCloud means no metadata service answered the probes.
var ErrNoCloud = errors.New("no cloud metadata service answered")

// Detect finds which cloud's metadata service answers, probing all three at once, each
// within o.Timeout (DefaultProbeTimeout when zero): an IMDSv2 token for AWS, the instance
// id with Metadata-Flavor: Google for GCP, the vmId with Metadata: true for Azure. A
// BaseURL in o replaces every cloud's endpoint (for tests). It fails with ErrNoCloud
// when none answers, and when more than one does, since polling the wrong one would miss
// the notice.
func Detect(ctx context.Context, o Options) (string, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultProbeTimeout
	}
	probes := map[string]func(context.Context, *client) error{
		CloudAWS: probeAWS, CloudGCP: probeGCP, CloudAzure: probeAzure,
	}
	type result struct {
		cloud string
		err   error
	}
	results := make(chan result, len(probes))
	for cloud, probe := range probes {
		co := o.withDefaults(cloud)
		if err := co.validate(); err != nil {
			return "", err
		}
		go func() { results <- result{cloud, probe(ctx, newClient(co))} }()
	}
	var found, failures []string
	for range probes {
		r := <-results
		if r.err == nil {
			found = append(found, r.cloud)
		} else {
			failures = append(failures, r.cloud+": "+r.err.Error())
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		return "", fmt.Errorf("%w (%s); pass --cloud", ErrNoCloud, strings.Join(sorted(failures), "; "))
	}
	return "", fmt.Errorf("the metadata services of %s all answered; pass --cloud", strings.Join(sorted(found), ", "))
}

// sorted orders s by the order of Clouds, which every entry starts with.
func sorted(s []string) []string {
	out := make([]string, 0, len(s))
	for _, c := range Clouds {
		for _, e := range s {
			if e == c || strings.HasPrefix(e, c+":") {
				out = append(out, e)
			}
		}
	}
	return out
}
