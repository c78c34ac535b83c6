// Package results is the RESULTS stream's wire format: every attempt's result, and the
// dispatcher's pending record of every delivery, as JSON arrays of store.Result. The
// dispatcher and the workers encode, the recorder decodes; none imports another for it.
package results

import (
	gojson "github.com/segmentio/encoding/json"

	"github.com/heraldhq/herald/internal/store"
)

// RESULTS messages are the busiest JSON in the fleet: every delivery sends two results (the
// dispatcher's pending record and the worker's attempt) that the recorder decodes. They go
// through segmentio/encoding/json, a drop-in for encoding/json (same struct tags, same output) that
// compiles an encoder and decoder per type instead of reflecting on every value.

// Encode returns res encoded as json.Marshal would.
func Encode(res store.Result) ([]byte, error) {
	return gojson.Marshal(res)
}

// Decode reads a RESULTS message body: a JSON array of results.
func Decode(data []byte) ([]store.Result, error) {
	var rs []store.Result
	if err := gojson.Unmarshal(data, &rs); err != nil {
		return nil, err
	}
	return rs, nil
}
