package natsauth

import (
	"fmt"
	"slices"
	"strings"
)

// Kind is what a role does in the fleet.
type Kind string

// The kinds of role.
const (
	// Producer publishes events.
	Producer Kind = "producer"
	// Dispatcher fans events out, records results, and runs the control API; the
	// single-machine herald process connects as it too.
	Dispatcher Kind = "dispatcher"
	// Worker delivers the deliveries of its channels.
	Worker Kind = "worker"
	// Admin may publish and subscribe to everything, for operators' tools.
	Admin Kind = "admin"
)

// Role is who a NATS connection is: a kind and, for a worker, the channels it delivers.
type Role struct {
	// Kind is what the role does.
	Kind Kind
	// Channels are a worker's channels, at least one. Other kinds have none.
	Channels []string
	// all marks the worker of every channel built into Herald, named worker-all.
	all bool
}

// WorkerOf is the role of a worker process delivering channels.
func WorkerOf(channels ...string) Role {
	cs := slices.Clone(channels)
	slices.Sort(cs)
	return Role{Kind: Worker, Channels: slices.Compact(cs)}
}

// AllWorkers is the role of a worker of every channel in channels, the channels built into
// Herald: it is named worker-all.
func AllWorkers(channels []string) Role {
	r := WorkerOf(channels...)
	r.all = true
	return r
}

// Name names the role in files and in auth.conf: producer, dispatcher, admin,
// worker-<channel>, worker-<a>+<b> for a worker of several channels, or worker-all.
func (r Role) Name() string {
	if r.Kind == Worker && r.all {
		return "worker-all"
	}
	if r.Kind == Worker {
		return "worker-" + strings.Join(r.Channels, "+")
	}
	return string(r.Kind)
}

// Validate reports a role that cannot be given permissions.
func (r Role) Validate() error {
	switch r.Kind {
	case Producer, Dispatcher, Admin:
		if len(r.Channels) > 0 {
			return fmt.Errorf("role %s: only workers have channels", r.Kind)
		}
		return nil
	case Worker:
		if len(r.Channels) == 0 {
			return fmt.Errorf("role worker: no channel")
		}
		for _, c := range r.Channels {
			if !validToken(c) {
				return fmt.Errorf("role worker: channel %q is not one subject token", c)
			}
		}
		return nil
	}
	return fmt.Errorf("unknown role %q (producer, dispatcher, worker, admin)", r.Kind)
}

// ParseRole reads a role as Name writes it: producer, dispatcher, admin, worker-<channel>,
// worker-<a>+<b> (or worker-<a>,<b>), or worker-all, a worker of every channel in known.
func ParseRole(s string, known []string) (Role, error) {
	var r Role
	if s == "worker-all" {
		r = AllWorkers(known)
	} else if rest, ok := strings.CutPrefix(s, "worker-"); ok {
		r = WorkerOf(strings.FieldsFunc(rest, func(c rune) bool { return c == '+' || c == ',' })...)
	} else {
		r = Role{Kind: Kind(s)}
	}
	return r, r.Validate()
}

// Permissions are a NATS user's allow lists. Anything not allowed is refused: the server
// drops the message and tells the client (a "Permissions Violation", which Herald's
// connections log).
type Permissions struct {
	Publish   []string
	Subscribe []string
}

// The key-value buckets Herald keeps, by suffix: the bucket is <prefix>_<suffix> and its
// stream KV_<prefix>_<suffix>.
const (
	BucketDispatched   = "dispatched"   // the dispatcher's idempotency record
	BucketAttempts     = "attempts"     // the workers' attempt counts
	BucketCircuits     = "circuits"     // circuit state shared between a channel's workers
	BucketDestinations = "destinations" // tenant destinations, propagated to every process
	BucketReplays      = "replays"      // replay jobs of the control API
)

// Herald's streams, as package broker names them (natsauth does not import broker, which
// the publisher CLI does not need).
var streams = []string{"EVENTS", "DELIVERIES", "RESULTS", "DEAD"}

// Bucket is the name of one of Herald's key-value buckets under prefix.
func Bucket(prefix, suffix string) string { return prefix + "_" + suffix }

// Inbox is the reply subject prefix of the user with public key pub (see ClientOptions).
func Inbox(pub string) string { return "_INBOX_" + pub }

// api is a subject of the JetStream API.
func api(s string) string { return "$JS.API." + s }

// Permissions lists what the role may publish and subscribe to, under the subject prefix,
// for the user whose public key is pub (its inbox is named after it).
func (r Role) Permissions(prefix, pub string) Permissions {
	inbox := Inbox(pub) + ".>"
	var p Permissions
	switch r.Kind {
	case Admin:
		return Permissions{Publish: []string{">"}, Subscribe: []string{">"}}
	case Producer:
		// A JetStream publish is a plain publish whose reply subject the stream answers:
		// no JetStream API subject is needed, only the inbox.
		p.Publish = []string{prefix + ".events.>"}
		p.Subscribe = []string{"_INBOX.>", inbox}
	case Dispatcher:
		p.Publish = dispatcherPublish(prefix)
		// The janitor hears MAX_DELIVERIES advisories; the control API's status reads others.
		p.Subscribe = []string{inbox, "$JS.EVENT.ADVISORY.>"}
	case Worker:
		p.Publish = workerPublish(prefix, r.Channels)
		p.Subscribe = []string{inbox}
	}
	return p
}

// dispatcherPublish: the dispatcher fans events out (EVENTS through its consumer, DELIVERIES,
// RESULTS for its pending records, DEAD for invalid events), records results (RESULTS
// through the recorder's consumer), applies the streams, and runs the control API, which
// reads and deletes dead letters, redrives them as deliveries, replays EVENTS through
// ephemeral ordered consumers, reads every consumer's state, and sends test events. It may
// publish events because test sends and replays may go through the pipeline; that gives it
// nothing it could not do with deliveries.
func dispatcherPublish(prefix string) []string {
	out := []string{
		prefix + ".events.>", prefix + ".deliver.>", prefix + ".results.>", prefix + ".dead.>",
		api("INFO"), api("STREAM.NAMES"), api("STREAM.LIST"),
	}
	for _, s := range streams {
		out = append(out, manageStream(s)...)
		if s == "DEAD" {
			out = append(out, api("STREAM.PURGE."+s))
		}
	}
	for _, b := range []string{BucketDispatched, BucketAttempts, BucketCircuits, BucketDestinations, BucketReplays} {
		out = append(out, kvWrite(Bucket(prefix, b))...)
	}
	return out
}

// manageStream is what managing one stream takes: its configuration, its messages, and any
// consumer on it.
func manageStream(s string) []string {
	return []string{
		api("STREAM.INFO." + s), api("STREAM.CREATE." + s), api("STREAM.UPDATE." + s),
		api("STREAM.MSG.GET." + s), api("STREAM.MSG.DELETE." + s), api("DIRECT.GET." + s), api("DIRECT.GET." + s + ".>"),
		api("CONSUMER.CREATE." + s), api("CONSUMER.CREATE." + s + ".>"), api("CONSUMER.DURABLE.CREATE." + s + ".>"),
		api("CONSUMER.INFO." + s + ".*"), api("CONSUMER.DELETE." + s + ".*"), api("CONSUMER.PAUSE." + s + ".*"),
		api("CONSUMER.MSG.NEXT." + s + ".*"), api("CONSUMER.LIST." + s), api("CONSUMER.NAMES." + s),
		"$JS.ACK." + s + ".>", "$JS.ACK.*.*." + s + ".>", "$JS.FC." + s + ".>", "$JS.FC.*.*." + s + ".>",
	}
}

// workerPublish: a worker of channel X consumes only deliver-X, whose filter is
// <prefix>.deliver.X.>, and publishes only X's results and dead letters. It looks the
// streams up at start (the dispatcher creates them), lists DELIVERIES' consumers for the
// queue-depth metrics every process serves, counts attempts, publishes its destinations'
// circuit states, and reads tenant destinations.
func workerPublish(prefix string, channels []string) []string {
	out := []string{api("INFO")}
	for _, s := range streams {
		out = append(out, api("STREAM.INFO."+s))
	}
	out = append(out, api("CONSUMER.LIST.DELIVERIES"))
	for _, ch := range channels {
		durable := "deliver-" + ch
		out = append(out,
			prefix+".results."+ch, prefix+".dead."+ch+".>",
			// The create subject carries the filter, which the server checks against the
			// configuration: a worker cannot give its consumer another channel's filter.
			api("CONSUMER.CREATE.DELIVERIES."+durable+"."+prefix+".deliver."+ch+".>"),
			api("CONSUMER.INFO.DELIVERIES."+durable),
			api("CONSUMER.MSG.NEXT.DELIVERIES."+durable),
			"$JS.ACK.DELIVERIES."+durable+".>", "$JS.ACK.*.*.DELIVERIES."+durable+".>",
		)
	}
	// Workers bind to their buckets, which the dispatcher makes: they may not create or
	// update any stream, since a stream's configuration can source another stream's
	// messages into one they may read.
	attempts, circuits, dests := Bucket(prefix, BucketAttempts), Bucket(prefix, BucketCircuits), Bucket(prefix, BucketDestinations)
	out = append(out, kvRead(attempts)...)
	out = append(out, "$KV."+attempts+".>")
	out = append(out, kvRead(circuits)...)
	for _, ch := range channels {
		// A worker publishes the states of its channel's destinations: <channel>.<...>.
		out = append(out, "$KV."+circuits+"."+ch+".>")
	}
	// Tenant destinations are read by every process; a worker writes only their failure
	// notes (h.<tenant>.<id>), never a destination (d.<tenant>.<id>).
	out = append(out, kvRead(dests)...)
	return append(out, "$KV."+dests+".h.>")
}

// kvRead is what reading a bucket takes: binding to it, getting keys (direct or not), and
// watching it through an ordered consumer with flow control.
func kvRead(bucket string) []string {
	s := "KV_" + bucket
	return []string{
		api("STREAM.INFO." + s), api("DIRECT.GET." + s), api("DIRECT.GET." + s + ".>"), api("STREAM.MSG.GET." + s),
		api("CONSUMER.CREATE." + s), api("CONSUMER.CREATE." + s + ".>"), api("CONSUMER.INFO." + s + ".*"),
		api("CONSUMER.DELETE." + s + ".*"), api("CONSUMER.MSG.NEXT." + s + ".*"),
		"$JS.FC." + s + ".>", "$JS.FC.*.*." + s + ".>",
	}
}

// kvWrite is what keeping a bucket takes: reading it, creating or updating it (which looks up
// the account's JetStream limits first), and putting, deleting and purging keys.
func kvWrite(bucket string) []string {
	s := "KV_" + bucket
	return append(kvRead(bucket),
		api("STREAM.CREATE."+s), api("STREAM.UPDATE."+s), api("STREAM.PURGE."+s), "$KV."+bucket+".>")
}

// validToken reports whether s is one subject token of letters, digits, '-' and '_'.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
