//go:build !race

package telegram

// raceEnabled is true under the race detector, which slows the property test tenfold; it
// then runs fewer cases.
const raceEnabled = false
