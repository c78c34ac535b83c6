package sdk

import (
	crand "crypto/rand"
	"fmt"
	"sync"

	"github.com/oklog/ulid/v2"
)

// ids makes every ULID of the process. Reading the clock under the same lock as the
// monotonic entropy is what makes ids strictly increasing across goroutines: with the clock
// read outside (as ulid.Make does), a goroutine holding an older millisecond resets the
// monotonic counter and a later id can sort first. The entropy is crypto/rand rather than
// ulid's default math/rand, so that processes started in the same nanosecond cannot collide.
var ids = struct {
	sync.Mutex
	entropy *ulid.MonotonicEntropy
	lastMS  uint64
}{entropy: ulid.Monotonic(crand.Reader, 0)}

// NewID returns a new event id: a ULID (26 characters of Crockford base32) of the current
// time. Ids made by one process are unique and sort in the order they were made, even
// within one millisecond and across goroutines. It is safe for concurrent use.
func NewID() (string, error) {
	ids.Lock()
	defer ids.Unlock()
	ms := ulid.Now()
	if ms < ids.lastMS {
		ms = ids.lastMS // the wall clock stepped back; keep ids ordered
	}
	ids.lastMS = ms
	id, err := ulid.New(ms, ids.entropy)
	if err != nil {
		// Only an exhausted monotonic counter (2^80 ids in one millisecond) or a failing
		// crypto/rand gets here.
		return "", fmt.Errorf("make event id: %w", err)
	}
	return id.String(), nil
}
