package podman

import (
	"fmt"
	"log/slog"
)

// Smoke test modes (SMOKE_TEST); any other value is a command.
const (
	SmokeOff    = "off"
	SmokeImport = "import"
)

// RunnerOptions configure what the runner does around the build container.
// The zero value: slog.Default(), smoke test "import", no default target,
// no audit.
type RunnerOptions struct {
	// Logger receives the runner's own events (stops, removals, cleanups).
	Logger *slog.Logger
	// Target is the platform tag (PLATFORM_TAG) of jobs that carry none, and
	// the one the start check compares the image with.
	Target string
	// SmokeTest (SMOKE_TEST): "off"; "import" (the default when empty):
	// install the wheel offline in a fresh container and import its
	// top-level modules; anything else is a command, split like
	// WORKER_RUN_CMD (SplitCommand), run in that container after the offline
	// install, with {wheel} in an argument and $WHEEL naming the wheel.
	SmokeTest string
	// Auditor audits every wheel a build writes against the job's target
	// and retags it; nil delivers wheels as built (no audit).
	Auditor Auditor
	// BinfmtDir is where binfmt_misc handlers are listed. Default
	// DefaultBinfmtDir.
	BinfmtDir string
	// Removed, when set, counts the containers Prepare removed (metrics).
	Removed RemovalObserver
}

// RemovalObserver counts containers removed at start.
type RemovalObserver interface {
	ContainersRemoved(n int)
}

// CheckSmokeTest reports whether s is a valid SMOKE_TEST value.
func CheckSmokeTest(s string) error {
	_, err := RunnerOptions{SmokeTest: s}.smokeArgv()
	return err
}

// smokeArgv is the smoke test's command: nil for off, []string{} for import.
func (o RunnerOptions) smokeArgv() ([]string, error) {
	switch o.SmokeTest {
	case SmokeOff:
		return nil, nil
	case "", SmokeImport:
		return []string{}, nil
	}
	argv, err := SplitCommand(o.SmokeTest)
	if err != nil {
		return nil, fmt.Errorf("smoke test command: %w", err)
	}
	if len(argv) == 0 {
		return nil, fmt.Errorf("%q is blank (use off, import or a command)", o.SmokeTest)
	}
	return argv, nil
}
