// Package pipeline holds what flows between the stages of refinery-worker: the
// queue item as the control-plane writes it, the envelope ([Work]) each stage
// enriches, plans, jobs, results and manifest entries, the topic names, and the
// router assembly that wires the stages together.
package pipeline
