// Package handlers holds one file per pipeline stage (dequeue, plan, match,
// build, report, requeue) and the HTTP handlers. Each stage depends only on
// the small interfaces declared next to it; concrete adapters are wired in
// cmd/.
package handlers
