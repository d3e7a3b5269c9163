package handlers

import (
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

// The entry names the delivered wheel and its platform tag, not the one the
// plan asked for (a linux_x86_64 wheel must never be recorded as
// manylinux2014_s390x).
func TestOutcomePlatformTagIsTheDeliveredWheels(t *testing.T) {
	job := &pipeline.Job{Name: "cpkg", Display: "cpkg", Version: "0.3", PythonTag: "cp311", PlatformTag: "manylinux2014_s390x", Attempt: 1}
	for _, tc := range []struct {
		name   string
		result pipeline.Result
		want   string
	}{
		{"retagged wheel", pipeline.Result{Status: pipeline.StatusBuilt, Wheels: []pipeline.Wheel{
			{File: "cpkg-0.3-cp311-cp311-manylinux_2_17_s390x.manylinux2014_s390x.whl"}}},
			"manylinux_2_17_s390x.manylinux2014_s390x"},
		{"build tag", pipeline.Result{Status: pipeline.StatusBuilt, Wheels: []pipeline.Wheel{
			{File: "cpkg-0.3-1-cp311-cp311-linux_s390x.whl"}}}, "linux_s390x"},
		{"no wheel", pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonPlatformMismatch}, "manylinux2014_s390x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{now: time.Now}
			res := tc.result
			o := r.outcome(&pipeline.Work{Job: job, Result: &res})
			if o.Entry.PlatformTag != tc.want {
				t.Errorf("platform_tag = %q, want %q", o.Entry.PlatformTag, tc.want)
			}
		})
	}
}
