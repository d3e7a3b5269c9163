package pipeline

// Status is the outcome of one request, as written to manifest.json and sent to
// the control-plane.
type Status string

// Statuses of manifest.json (docs/control-plane.md).
const (
	StatusBuilt     Status = "built"
	StatusFailed    Status = "failed"
	StatusRetry     Status = "retry"
	StatusSkipped   Status = "skipped"
	StatusUnmatched Status = "unmatched"
	StatusReused    Status = "reused"
)

// Reasons a build ended without success, recorded in RunResult.Reason and in
// the manifest metadata.
const (
	ReasonTimeout   = "timeout"
	ReasonCancelled = "cancelled"
	ReasonShutdown  = "shutdown"
	ReasonExit      = "exit"     // the build command exited non-zero
	ReasonNoWheel   = "no_wheel" // exit 0 but no wheel for the job was found
	ReasonRunner    = "runner"   // the runner itself failed (podman missing, ...)
	ReasonNoPlan    = "no_plan"
	ReasonDuplicate = "duplicate"
	// ReasonPlatformMismatch: the wheel does not fit the target platform tag
	// (machine, glibc level, or a library outside the manylinux policy).
	ReasonPlatformMismatch = "platform_mismatch"
	// ReasonAudit: a wheel could not be audited or retagged.
	ReasonAudit = "audit"
	// ReasonSmokeTest: the wheel did not install offline or import on the
	// target (or the configured smoke test command failed).
	ReasonSmokeTest = "smoke_test"
)
