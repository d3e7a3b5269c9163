package stub

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/podman"
	"github.com/refinery/refinery-worker/pipeline"
)

func commander(t *testing.T) *podman.Commander {
	t.Helper()
	c, err := podman.NewCommander(podman.Options{Image: podman.LocalImage, OutputDir: "/out", CacheDir: "/cache"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func job() pipeline.Job {
	return pipeline.Job{ID: "j1", Name: "numpy", Version: "1.26.4", PythonTag: "cp311", Attempt: 1,
		Recipes: []string{"pip:cython<3"}}
}

func TestStubWritesCommandAndSkips(t *testing.T) {
	c := commander(t)
	var log bytes.Buffer
	res := New(c, Options{}).Run(context.Background(), job(), &log)
	if res.Status != pipeline.StatusSkipped || res.Metadata[pipeline.MetaRunner] != "stub" {
		t.Fatalf("result %+v", res)
	}
	argv, _ := c.Command(job())
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if lines[len(lines)-1] != podman.Join(argv) {
		t.Fatalf("log %q does not end with the command %q", log.String(), podman.Join(argv))
	}
	back, err := podman.SplitCommand(lines[len(lines)-1])
	if err != nil || !slices.Equal(back, argv) {
		t.Fatalf("logged command re-splits to %q, %v", back, err)
	}
	if !strings.Contains(log.String(), "'RECIPES=pip:cython<3'") {
		t.Errorf("token with < not quoted: %s", log.String())
	}
}

func TestStubNeverBuilds(t *testing.T) {
	r := New(commander(t), Options{FailRatio: 0.5, Seed: 7})
	counts := map[pipeline.Status]int{}
	for range 200 {
		var log bytes.Buffer
		counts[r.Run(context.Background(), job(), &log).Status]++
	}
	if counts[pipeline.StatusBuilt] != 0 || counts[pipeline.StatusFailed] == 0 || counts[pipeline.StatusSkipped] == 0 {
		t.Fatalf("statuses %v", counts)
	}
}

func TestStubInvalidJobFails(t *testing.T) {
	j := job()
	j.Version = "$(reboot)"
	var log bytes.Buffer
	res := New(commander(t), Options{}).Run(context.Background(), j, &log)
	if res.Status != pipeline.StatusFailed || res.Reason != pipeline.ReasonRunner {
		t.Fatalf("result %+v", res)
	}
}

func TestStubDelayHonoursCancel(t *testing.T) {
	tests := []struct {
		cause error
		want  string
	}{
		{pipeline.ErrShutdown, pipeline.ReasonShutdown},
		{pipeline.ErrCancelled, pipeline.ReasonCancelled},
	}
	for _, tc := range tests {
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(tc.cause)
		var log bytes.Buffer
		res := New(commander(t), Options{Delay: Fixed(time.Hour)}).Run(ctx, job(), &log)
		if res.Status != pipeline.StatusFailed || res.Reason != tc.want {
			t.Errorf("cause %v: result %+v", tc.cause, res)
		}
	}
}
