package channeltest

import "testing"

// Runs returns how many cases a property test should run: full, or reduced under -short or
// the race detector, which slows such tests tenfold without finding more.
func Runs(full, reduced int) int {
	if testing.Short() || raceEnabled {
		return reduced
	}
	return full
}
