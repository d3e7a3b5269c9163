package planner

import (
	"fmt"
	"io"
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
	return nil
}
