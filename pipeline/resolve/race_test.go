//go:build race

package resolve

// raceEnabled shrinks costly property tests under the race detector.
const raceEnabled = true
