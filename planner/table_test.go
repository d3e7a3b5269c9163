package planner_test

import (
	"os"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/planner"
)

func ExampleWriteTable() {
	plan := &pipeline.Plan{RunID: "k3j9x0abcd12", Nodes: []pipeline.PlanNode{
		{Name: "lxml", Version: "5.2.1", Action: "build", PythonVersion: "3.11", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x"},
		{Name: "six", Version: "1.16.0", Action: "reuse", PythonTag: "py3", PlatformTag: "any"},
	}}
	if err := planner.WriteTable(os.Stdout, plan); err != nil {
		panic(err)
	}
	// Output:
	// NAME  VERSION  ACTION  PYTHON  PLATFORM
	// lxml  5.2.1    build   cp311   manylinux2014_s390x
	// six   1.16.0   reuse   py3     any
	// run k3j9x0abcd12: 2 packages, 1 to build, 1 to reuse
}
