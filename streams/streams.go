// Package streams holds Herald's JetStream stream and consumer definitions as JSON, in the
// form `nats stream add --config` and `nats consumer add --config` accept, embedded in every
// binary so that each applies them at start. Subjects are written with the default prefix
// "herald"; consumers/DELIVERIES/channel.json is a template whose CHANNEL stands for a channel name.
package streams

import "embed"

// FS holds the definitions: <stream>.json at the root and consumers/<STREAM>/<consumer>.json.
//
//go:embed *.json consumers/*/*.json
var FS embed.FS
