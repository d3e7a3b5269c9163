//go:build race

package main

// workerBuildFlags are the extra `go build` flags of the worker binary the
// end-to-end tests run: with the race detector when the tests themselves run
// with it (`go test -race`, or GOFLAGS=-race as in .ci/run), so CI checks
// the worker's own goroutines too.
func workerBuildFlags() []string { return []string{"-race"} }
