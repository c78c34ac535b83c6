package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/oklog/ulid/v2"

	"github.com/heraldhq/herald/internal/broker"
	"github.com/heraldhq/herald/internal/channel"
	"github.com/heraldhq/herald/internal/control"
	"github.com/heraldhq/herald/internal/store"
	"github.com/heraldhq/herald/sdk"
)

// ReplaysBucketConfig is the bucket of replay jobs, <prefix>_replays: one key per job id,
// its control.Replay as JSON, kept a week after its last change.
func ReplaysBucketConfig(prefix string, replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{
		Bucket:      prefix + "_replays",
		Description: "Herald replay jobs and their progress, by id.",
		TTL:         7 * 24 * time.Hour,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	}
}

// Replay destinations.
const (
	DestinationsCurrent  = "current"
	DestinationsOriginal = "original"
)

const (
	// saveEvery is how often a running replay saves its progress, which is also how soon a
	// cancel made on another replica stops it.
	saveEvery = 500 * time.Millisecond
	// abandonedAfter is how long a running replay may go unsaved before Get reports that
	// the replica running it stopped.
	abandonedAfter = time.Minute
)

var replayID = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`) // a ULID

// replays implements control.Replays over EVENTS and the replays bucket.
type replays struct{ *Service }

// Start validates the request, records the job and runs it in the background.
func (r replays) Start(ctx context.Context, req control.ReplayRequest) (control.Replay, error) {
	if err := r.validate(&req); err != nil {
		return control.Replay{}, err
	}
	if r.deps.Replays == nil || r.deps.Dispatcher == nil {
		return control.Replay{}, errors.New("replays: not available in this process")
	}
	now := time.Now().UTC()
	job := control.Replay{ID: ulid.Make().String(), State: control.ReplayRunning, Request: req, CreatedAt: now, UpdatedAt: now}
	body, err := json.Marshal(job)
	if err != nil {
		return control.Replay{}, err
	}
	rev, err := r.deps.Replays.Create(ctx, job.ID, body)
	if err != nil {
		return control.Replay{}, fmt.Errorf("record replay: %w", err)
	}
	if err := r.background(func(ctx context.Context) { r.run(ctx, job, rev) }); err != nil {
		return control.Replay{}, err
	}
	return job, nil
}

func (r replays) validate(req *control.ReplayRequest) error {
	if req.Since.IsZero() {
		return &control.FieldError{Field: "since", Message: "since is required"}
	}
	if req.Until.IsZero() {
		req.Until = time.Now().UTC()
	}
	if !req.Since.Before(req.Until) {
		return &control.FieldError{Field: "until", Message: "until must be after since"}
	}
	if req.Tenant != "" && !sdk.ValidTenant(req.Tenant) {
		return &control.FieldError{Field: "tenant", Message: "not a valid tenant id: " + quote(req.Tenant)}
	}
	for i, p := range req.EventTypes {
		if _, err := parseTypePattern("event_types["+strconv.Itoa(i)+"]", p); err != nil {
			return err
		}
	}
	known := r.cfg.Channels
	if r.deps.Channels != nil {
		known = r.deps.Channels.Names()
	}
	for i, c := range req.Channels {
		if !slices.Contains(known, c) {
			return &control.FieldError{Field: "channels[" + strconv.Itoa(i) + "]", Message: "unknown channel " + quote(c) + " (known: " + strings.Join(known, ", ") + ")"}
		}
	}
	switch req.Destinations {
	case "":
		req.Destinations = DestinationsCurrent
	case DestinationsCurrent, DestinationsOriginal:
	default:
		return &control.FieldError{Field: "destinations", Message: `"current" or "original"`}
	}
	return nil
}

// Get returns a job's progress, whichever replica runs it.
func (r replays) Get(ctx context.Context, id string) (control.Replay, error) {
	job, _, err := r.load(ctx, id)
	if err != nil {
		return control.Replay{}, err
	}
	if job.State == control.ReplayRunning && time.Since(job.UpdatedAt) > abandonedAfter {
		// Its replica stopped without a word (a crash): it will never finish.
		job.State, job.Error = control.ReplayFailed, "abandoned: the dispatcher replica running it stopped"
	}
	return job, nil
}

// Cancel marks a running job cancelled; the replica running it stops within saveEvery. A job
// that has ended already is returned as it is.
func (r replays) Cancel(ctx context.Context, id string) (control.Replay, error) {
	for {
		job, rev, err := r.load(ctx, id)
		if err != nil {
			return control.Replay{}, err
		}
		if job.State != control.ReplayRunning {
			return job, nil
		}
		job.State, job.UpdatedAt = control.ReplayCancelled, time.Now().UTC()
		body, err := json.Marshal(job)
		if err != nil {
			return control.Replay{}, err
		}
		_, err = r.deps.Replays.Update(ctx, id, body, rev)
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // its runner saved progress meanwhile
		}
		if err != nil {
			return control.Replay{}, fmt.Errorf("cancel replay: %w", err)
		}
		return job, nil
	}
}

func (r replays) load(ctx context.Context, id string) (control.Replay, uint64, error) {
	if !replayID.MatchString(id) || r.deps.Replays == nil {
		return control.Replay{}, 0, fmt.Errorf("replay %s: %w", quote(id), control.ErrNotFound)
	}
	e, err := r.deps.Replays.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return control.Replay{}, 0, fmt.Errorf("replay %s: %w", id, control.ErrNotFound)
	}
	if err != nil {
		return control.Replay{}, 0, fmt.Errorf("read replay: %w", err)
	}
	var job control.Replay
	if err := json.Unmarshal(e.Value(), &job); err != nil {
		return control.Replay{}, 0, fmt.Errorf("read replay %s: %w", id, err)
	}
	return job, e.Revision(), nil
}

// errCancelled ends a run that was cancelled.
var errCancelled = errors.New("cancelled")

// run reads the window from EVENTS and re-dispatches what matches, saving progress as it
// goes; the job ends done, cancelled or failed.
func (r replays) run(ctx context.Context, job control.Replay, rev uint64) {
	log := r.log.With("replay_id", job.ID)
	j := &replayRun{replays: r, job: job, rev: rev, saved: time.Now()}
	err := j.read(ctx)
	switch {
	case errors.Is(err, errCancelled):
		log.Info("replay cancelled", "matched", j.job.Matched, "dispatched", j.job.Dispatched)
		return
	case err == nil:
		j.job.State = control.ReplayDone
	case ctx.Err() != nil:
		j.job.State, j.job.Error = control.ReplayFailed, "stopped: the dispatcher replica running it shut down"
	default:
		j.job.State, j.job.Error = control.ReplayFailed, err.Error()
	}
	// The service's context may be over: the last save gets its own.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.PublishTimeout)
	defer cancel()
	if err := j.save(sctx); err != nil && !errors.Is(err, errCancelled) {
		log.Warn("save replay", "err", err)
	}
	log.Info("replay ended", "state", j.job.State, "matched", j.job.Matched, "dispatched", j.job.Dispatched, "error", j.job.Error)
}

// replayRun is one job as its runner holds it.
type replayRun struct {
	replays
	job   control.Replay
	rev   uint64
	saved time.Time
	types []typeFilter
}

// save writes the job's progress unless it was cancelled meanwhile, which it reports as
// errCancelled.
func (j *replayRun) save(ctx context.Context) error {
	for {
		j.job.UpdatedAt = time.Now().UTC()
		body, err := json.Marshal(j.job)
		if err != nil {
			return err
		}
		rev, err := j.deps.Replays.Update(ctx, j.job.ID, body, j.rev)
		if err == nil {
			j.rev, j.saved = rev, time.Now()
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("save replay progress: %w", err)
		}
		stored, rev, err := j.load(ctx, j.job.ID)
		if err != nil {
			return err
		}
		if stored.State == control.ReplayCancelled {
			return errCancelled
		}
		j.rev = rev
	}
}

// filterSubjects narrows the ordered consumer to the tenant and event types where subjects
// can: an exact type and a "prefix.*" pattern each have a subject; any other pattern reads
// the tenant's whole subject space and is filtered in Go.
func (j *replayRun) filterSubjects() []string {
	tenant := "*"
	if j.job.Request.Tenant != "" {
		tenant = j.job.Request.Tenant
	}
	all := []string{j.cfg.Prefix + ".events." + tenant + ".>"}
	if len(j.types) == 0 {
		return all
	}
	var out []string
	for _, tf := range j.types {
		switch {
		case tf.exact != "":
			out = append(out, j.cfg.Prefix+".events."+tenant+"."+tf.exact)
		case tf.match == nil && strings.HasSuffix(tf.prefix, ".") && !strings.ContainsAny(tf.prefix, "*> "):
			out = append(out, j.cfg.Prefix+".events."+tenant+"."+tf.prefix+">")
		default:
			return all
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	// JetStream refuses overlapping filters ("payment.>" with "payment.failed").
	for a := range out {
		for b := range out {
			if a != b && subjectsOverlap(out[a], out[b]) {
				return all
			}
		}
	}
	return out
}

// subjectsOverlap reports whether one subject could match both filters.
func subjectsOverlap(a, b string) bool {
	ta, tb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(ta) && i < len(tb); i++ {
		if ta[i] == ">" || tb[i] == ">" {
			return true
		}
		if ta[i] != tb[i] && ta[i] != "*" && tb[i] != "*" {
			return false
		}
	}
	return len(ta) == len(tb)
}

func (j *replayRun) read(ctx context.Context) error {
	req := j.job.Request
	for _, p := range req.EventTypes {
		tf, _ := parseTypePattern("", p) // validated by Start
		j.types = append(j.types, tf)
	}
	start := req.Since
	cctx, cancel := context.WithTimeout(ctx, j.cfg.PublishTimeout)
	cons, err := j.deps.JetStream.OrderedConsumer(cctx, broker.StreamEvents, jetstream.OrderedConsumerConfig{
		FilterSubjects: j.filterSubjects(),
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &start,
		// Gone soon after the read ends, rather than after the default 5 minutes.
		InactiveThreshold: 30 * time.Second,
	})
	cancel()
	if err != nil {
		return fmt.Errorf("read EVENTS: %w", err)
	}
	began, handled := time.Now(), 0
	return scan(ctx, cons, "EVENTS", 256, func(m jetstream.Msg, md *jetstream.MsgMetadata) (bool, error) {
		if !md.Timestamp.Before(req.Until) {
			return false, nil
		}
		if err := j.replay(ctx, m); err != nil {
			return false, err
		}
		handled++
		if time.Since(j.saved) >= saveEvery {
			if err := j.save(ctx); err != nil {
				return false, err
			}
		}
		return true, pace(ctx, began, handled, j.cfg.ReplayRate)
	})
}

// replay re-dispatches one event of the window if it passes the filters.
func (j *replayRun) replay(ctx context.Context, m jetstream.Msg) error {
	req := j.job.Request
	ev, err := j.deps.Dispatcher.Validate(m)
	if err != nil {
		return nil // dead-lettered when first consumed; nothing to replay
	}
	if req.Tenant != "" && ev.Tenant() != req.Tenant {
		return nil
	}
	if len(j.types) > 0 && !slices.ContainsFunc(j.types, func(tf typeFilter) bool { return tf.matches(ev.Type) }) {
		return nil
	}
	var dests []channel.Destination
	if req.Destinations == DestinationsOriginal {
		if dests, err = j.original(ctx, ev); err != nil {
			return err
		}
	} else {
		dests = j.deps.Dispatcher.Route(ev)
	}
	if len(req.Channels) > 0 {
		dests = slices.DeleteFunc(slices.Clone(dests), func(d channel.Destination) bool { return !slices.Contains(req.Channels, d.Channel) })
	}
	if len(dests) == 0 {
		return nil // nowhere to go among the channels asked for
	}
	j.job.Matched++
	if !req.DryRun {
		if err := j.deps.Dispatcher.Redispatch(ctx, m.Data(), ev, dests, j.job.ID); err != nil {
			return fmt.Errorf("re-dispatch event %s: %w", ev.ID, err)
		}
	}
	j.job.Dispatched += int64(len(dests))
	return nil
}

// original returns the destinations the event went to when it was first dispatched, from
// the ledger, that still exist: the operator's, and the tenant's that still route it.
func (j *replayRun) original(ctx context.Context, ev *sdk.Event) ([]channel.Destination, error) {
	rows, err := j.deps.Ledger.Page(ctx, store.Query{EventID: ev.ID, TenantID: ev.Tenant(), Limit: 1000})
	if err != nil {
		return nil, fmt.Errorf("original destinations of %s: %w", ev.ID, err)
	}
	went := map[string]bool{}
	for _, row := range rows {
		if row.DeliveryID == broker.DeliveryID(ev.ID, row.Destination) { // not a replay's
			went[row.Destination] = true
		}
	}
	var out []channel.Destination
	seen := map[string]bool{}
	for _, d := range slices.Concat(j.deps.Destinations, j.deps.Dispatcher.Route(ev)) {
		if went[d.ID] && !seen[d.ID] {
			seen[d.ID] = true
			out = append(out, d)
		}
	}
	return out, nil
}
