package planner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/refinery/refinery-worker/pipeline"
)

// PlanFile is the plan's file name inside OUTPUT_DIR.
const PlanFile = "plan.json"

// WritePlan writes dir/plan.json atomically: a temporary file in dir,
// synced, then renamed over the old plan.
func WritePlan(dir string, plan *pipeline.Plan) error {
	b, err := json.MarshalIndent(plan, "", "  ")
	if err != nil {
		return fmt.Errorf("encode plan: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("plan dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".plan-*.json")
	if err != nil {
		return fmt.Errorf("plan temp file: %w", err)
	}
	cleanup := func(err error) error {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		return cleanup(fmt.Errorf("write plan: %w", err))
	}
	if err := tmp.Sync(); err != nil {
		return cleanup(fmt.Errorf("sync plan: %w", err))
	}
	if err := tmp.Close(); err != nil {
		return cleanup(fmt.Errorf("close plan: %w", err))
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return cleanup(fmt.Errorf("chmod plan: %w", err))
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, PlanFile)); err != nil {
		return cleanup(fmt.Errorf("rename plan: %w", err))
	}
	return nil
}
