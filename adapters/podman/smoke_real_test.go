package podman

import (
	"context"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// SMOKE_TEST as a user sets it: off, or their own command, which runs after
// the offline install with {wheel} replaced by the wheel's path.
func TestSmokeTestModes(t *testing.T) {
	t.Parallel() // own dirs, index server, runner and worker id: it waits on podman, so it runs beside the others
	srv := serveIndex(t, map[string]sdistFile{
		"cpkg": {"cpkg-0.3.tar.gz", sdist(t, "cpkg", "cpkg", "0.3", cModule("cpkg"))},
	})
	for _, tc := range []struct {
		name, smoke string
		status      pipeline.Status
		reason      string
		inLog       []string
		notInLog    []string
	}{
		{"off", SmokeOff, pipeline.StatusBuilt, "", nil, []string{"refinery: smoke test"}},
		{"command passes", `python3 -c 'import cpkg, sys; sys.exit(cpkg.answer() != 42)'`, pipeline.StatusBuilt, "",
			[]string{"Successfully installed cpkg-0.3", "refinery: smoke test of cpkg-0.3-"}, nil},
		{"command fails", `sh -c 'echo "checking $1 ($WHEEL)"; exit 3' sh {wheel}`, pipeline.StatusFailed, pipeline.ReasonSmokeTest,
			[]string{"checking /output/cpkg-0.3-cp311-cp311-manylinux", "failed with exit code 3"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newRealRunnerWith(t, func(o *Options) {
				o.Network = "host"
				o.IndexURL = srv.URL + "/simple/"
			}, RunnerOptions{Auditor: WheelAudit{}, SmokeTest: tc.smoke})
			job := newJob("cpkg", "0.3")
			job.PlatformTag = "manylinux_2_36_" + hostMachine()
			w := newWatchWriter("")
			res := s.runner.Run(context.Background(), job, w)
			log := w.String()
			if res.Status != tc.status || res.Reason != tc.reason {
				t.Fatalf("result %s/%s (%s), want %s/%s\nlog:\n%s", res.Status, res.Reason, res.Error, tc.status, tc.reason, log)
			}
			for _, want := range tc.inLog {
				if !strings.Contains(log, want) {
					t.Errorf("log lacks %q:\n%s", want, log)
				}
			}
			for _, not := range tc.notInLog {
				if strings.Contains(log, not) {
					t.Errorf("log has %q:\n%s", not, log)
				}
			}
		})
	}
}
