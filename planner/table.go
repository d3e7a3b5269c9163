package planner

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/refinery/refinery-worker/pipeline"
)

// WriteTable prints a plan as an aligned table for `refinery-worker plan`:
// one row per node, then a count of builds and reuses.
func WriteTable(w io.Writer, plan *pipeline.Plan) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "NAME\tVERSION\tACTION\tPYTHON\tPLATFORM\n")
	builds := 0
	for _, n := range plan.Nodes {
		if n.Action == pipeline.ActionBuild {
			builds++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, n.Version, n.Action, n.PythonTag, n.PlatformTag)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write plan table: %w", err)
	}
	_, err := fmt.Fprintf(w, "run %s: %d packages, %d to build, %d to reuse\n",
		plan.RunID, len(plan.Nodes), builds, len(plan.Nodes)-builds)
	if err != nil {
		return fmt.Errorf("write plan table: %w", err)
	}
	var unknown []string
	for _, n := range plan.Nodes {
		if DependenciesUnknown(n) {
			unknown = append(unknown, n.Name+" "+n.Version)
		}
	}
	if len(unknown) > 0 {
		_, err = fmt.Fprintf(w, "warning: dependencies unknown (sdist metadata does not declare them), not planned: %s\n",
			strings.Join(unknown, ", "))
		if err != nil {
			return fmt.Errorf("write plan table: %w", err)
		}
	}
	return nil
}

// DependenciesUnknown reports whether a node is marked
// metadata.dependencies = "unknown".
func DependenciesUnknown(n pipeline.PlanNode) bool {
	var m struct {
		Dependencies string `json:"dependencies"`
	}
	return json.Unmarshal(n.Extra["metadata"], &m) == nil && m.Dependencies == "unknown"
}
