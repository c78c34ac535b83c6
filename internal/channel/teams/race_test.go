//go:build race

package teams

// raceEnabled is true under the race detector, which slows the property test tenfold; it
// then runs fewer cases.
const raceEnabled = true
