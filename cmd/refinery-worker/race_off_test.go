//go:build !race

package main

// workerBuildFlags are the extra `go build` flags of the worker binary the
// end-to-end tests run: none when the tests run without the race detector,
// so a plain `go test ./...` does not pay for a race-built worker in every
// end-to-end test (see race_on_test.go).
func workerBuildFlags() []string { return nil }
