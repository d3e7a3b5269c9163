package podman

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
)

func baseOptions() Options {
	return Options{Bin: "/usr/bin/podman", Image: LocalImage, OutputDir: "/srv/out", CacheDir: "/srv/cache", WorkerID: "w1"}
}

func goodJob() pipeline.Job {
	return pipeline.Job{ID: "j-123", Name: "lxml", Version: "5.2.1", PythonVersion: "3.11", PythonTag: "cp311",
		PlatformTag: "manylinux2014_s390x", Recipes: []string{"dnf:libxml2-devel", "pip:cython<3"}, Attempt: 2}
}

func TestCommandArgv(t *testing.T) {
	opts := baseOptions()
	opts.Memory, opts.CPUs, opts.PidsLimit, opts.Network = "2g", "1.5", 512, "none"
	opts.IndexURL = "http://127.0.0.1:8080/simple/"
	opts.Timeout, opts.StopGrace = 60*time.Second, 5*time.Second
	opts.Env = map[string]string{"PIP_NO_COLOR": "1"}
	opts.RunCmd = `sh -c 'echo "$JOB_NAME"'`
	c, err := NewCommander(opts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Command(goodJob())
	if err != nil {
		t.Fatal(err)
	}
	owner, err := ProcessIdentity(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"/usr/bin/podman", "run", "--rm", "--init", "--pull=never",
		"--name", "refinery-w1-j-123-a2",
		"--label", "refinery.job=j-123", "--label", "refinery.worker=w1", "--label", "refinery.attempt=2",
		"--label", "refinery.owner=" + owner,
		"--timeout", "95",
		"-v", "/srv/out/.build-refinery-w1-j-123-a2:/output", "-v", "/srv/cache:/cache",
		"-e", "JOB_NAME=lxml", "-e", "JOB_VERSION=5.2.1", "-e", "PYTHON_VERSION=3.11", "-e", "PYTHON_TAG=cp311",
		"-e", "PLATFORM_TAG=manylinux2014_s390x", "-e", "PYTHONUNBUFFERED=1",
		"-e", "RECIPES=dnf:libxml2-devel,pip:cython<3", "-e", "INDEX_URL",
		"-e", "PIP_NO_COLOR",
		"--memory", "2g", "--cpus", "1.5", "--pids-limit", "512", "--network", "none",
		LocalImage, "sh", "-c", `echo "$JOB_NAME"`}
	if !slices.Equal(got, want) {
		t.Fatalf("argv\n got %q\nwant %q", got, want)
	}
}

func TestCommandDefaults(t *testing.T) {
	opts := baseOptions()
	opts.Image, opts.Preset = "", "rocky"
	c, err := NewCommander(opts)
	if err != nil {
		t.Fatal(err)
	}
	job := goodJob()
	job.Recipes = nil
	got, err := c.Command(job)
	if err != nil {
		t.Fatal(err)
	}
	tail := got[len(got)-2:]
	if !slices.Equal(tail, []string{"localhost/refinery-builder-rocky:latest", "refinery-build"}) {
		t.Errorf("image and command = %q", tail)
	}
	if slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "RECIPES=") || strings.HasPrefix(s, "INDEX_URL") }) {
		t.Errorf("empty RECIPES or INDEX_URL passed: %q", got)
	}
	if i := slices.Index(got, "--timeout"); got[i+1] != "940" {
		t.Errorf("backstop timeout %s, want 900+10+30", got[i+1])
	}
}

func TestPresetImage(t *testing.T) {
	for _, p := range []string{"debian", "rocky", "fedora", "ubuntu"} {
		img, err := PresetImage(p)
		if err != nil || img != "localhost/refinery-builder-"+p+":latest" {
			t.Errorf("PresetImage(%q) = %q, %v", p, img, err)
		}
	}
	if _, err := PresetImage("arch"); err == nil || !strings.Contains(err.Error(), `"arch"`) {
		t.Errorf("unknown preset error %v does not name it", err)
	}
}

func TestOptionsValidateListsEveryProblem(t *testing.T) {
	opts := Options{Preset: "gentoo", RunCmd: "make && x", Memory: "lots", CPUs: "-1", PidsLimit: -1,
		Network: "--privileged", OutputDir: "/a:b", IndexURL: "file:///etc", WorkerID: "bad id",
		Env: map[string]string{"JOB_NAME": "x", "ok_lower": "y"}}
	err := opts.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, field := range []string{"preset", "run command", "memory", "cpus", "pids limit", "network",
		"output dir", "cache dir", "index url", "worker id", `"JOB_NAME"`, `"ok_lower"`} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error does not mention %s:\n%v", field, err)
		}
	}
	if err := baseOptions().Validate(); err != nil {
		t.Errorf("good options: %v", err)
	}
}

func TestValidateJob(t *testing.T) {
	mod := func(f func(*pipeline.Job)) pipeline.Job { j := goodJob(); f(&j); return j }
	tests := []struct {
		name string
		job  pipeline.Job
		ok   bool
	}{
		{"good", goodJob(), true},
		{"no tags", mod(func(j *pipeline.Job) { j.PythonTag, j.PlatformTag, j.PythonVersion = "", "", "" }), true},
		{"epoch local version", mod(func(j *pipeline.Job) { j.Version = "1!2.0+local.1" }), true},
		{"env recipe", mod(func(j *pipeline.Job) { j.Recipes = []string{"env:CFLAGS=-O2"} }), true},
		{"empty id", mod(func(j *pipeline.Job) { j.ID = "" }), false},
		{"id with slash", mod(func(j *pipeline.Job) { j.ID = "a/b" }), false},
		{"name option", mod(func(j *pipeline.Job) { j.Name = "--privileged" }), false},
		{"version newline", mod(func(j *pipeline.Job) { j.Version = "1.0\n-e X=1" }), false},
		{"empty version", mod(func(j *pipeline.Job) { j.Version = "" }), false},
		{"tag with space", mod(func(j *pipeline.Job) { j.PlatformTag = "x --privileged" }), false},
		{"recipe comma", mod(func(j *pipeline.Job) { j.Recipes = []string{"pip:foo>=1,<2"} }), false},
		{"recipe option", mod(func(j *pipeline.Job) { j.Recipes = []string{"dnf:-y"} }), false},
		{"recipe unknown manager", mod(func(j *pipeline.Job) { j.Recipes = []string{"brew:x"} }), false},
		{"env LD_PRELOAD", mod(func(j *pipeline.Job) { j.Recipes = []string{"env:LD_PRELOAD=/tmp/x.so"} }), false},
		{"env JOB_NAME", mod(func(j *pipeline.Job) { j.Recipes = []string{"env:JOB_NAME=x"} }), false},
		{"negative attempt", mod(func(j *pipeline.Job) { j.Attempt = -1 }), false},
	}
	for _, tc := range tests {
		if err := ValidateJob(tc.job); (err == nil) != tc.ok {
			t.Errorf("%s: ValidateJob = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// hostile reports whether a value from a queue item could change a command
// line's meaning if it reached one.
func hostile(v string) bool {
	if len(v) > 128 {
		return true
	}
	for _, r := range v {
		if r > 126 || strings.ContainsRune(" \t\n;$()`|&<>'\"\\/*?", r) {
			return true
		}
	}
	return false
}

// TestHostileFixturesNeverReachArgv feeds every value of
// ../shared/fixtures/bad-queue-items.jsonl (copied into testdata) straight
// into a Job, bypassing the dequeue stage: a hostile value is refused, and no
// command line ever contains one.
func TestHostileFixturesNeverReachArgv(t *testing.T) {
	data, err := os.ReadFile("testdata/bad-queue-items.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCommander(baseOptions())
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	lines := 0
	for sc.Scan() {
		lines++
		var m map[string]any
		_ = json.Unmarshal(sc.Bytes(), &m) // lines that are no object give an empty job
		str := func(k, def string) string {
			if s, ok := m[k].(string); ok {
				return s
			}
			return def
		}
		job := pipeline.Job{ID: "j1", Name: str("package", ""), Display: str("package", ""),
			Version: str("version", "1.0"), PythonTag: str("python_tag", ""), PlatformTag: str("platform_tag", ""), Attempt: 1}
		values := []string{job.Name, job.Version, job.PythonTag, job.PlatformTag}
		if rs, ok := m["recipes"].([]any); ok {
			for _, r := range rs {
				if s, ok := r.(string); ok {
					job.Recipes = append(job.Recipes, s)
					values = append(values, s)
				}
			}
		}
		argv, err := c.Command(job)
		anyHostile := slices.ContainsFunc(values, hostile) ||
			slices.ContainsFunc(job.Recipes, func(r string) bool { return strings.Contains(r, "LD_") })
		if anyHostile && err == nil {
			t.Errorf("line %d: hostile job accepted: %q", lines, argv)
		}
		for _, v := range values {
			if !hostile(v) {
				continue
			}
			for _, a := range argv {
				if strings.Contains(a, v) {
					t.Errorf("line %d: hostile value %q reached argv element %q", lines, v, a)
				}
			}
		}
	}
	if lines < 20 {
		t.Fatalf("read only %d fixture lines", lines)
	}
}

// The worker-wide variables (index URLs with credentials, extra environment)
// are named on the command line, readable by every local user, and their
// values travel in the podman client's environment.
func TestCommandKeepsSecretsOffTheCommandLine(t *testing.T) {
	opts := baseOptions()
	opts.IndexURL = "http://builder:idx-pass-4821@127.0.0.1:8080/simple/"
	opts.ExtraIndexURL = "https://u:extra-pass-77@mirror.example/simple/ http://127.0.0.1:9/simple/"
	opts.Env = map[string]string{"UPLOAD_TOKEN": "tok-5b7e9c1d2a"}
	c, err := NewCommander(opts)
	if err != nil {
		t.Fatal(err)
	}
	argv, err := c.Command(goodJob())
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Join(argv, " ")
	for _, secret := range []string{"idx-pass-4821", "extra-pass-77", "tok-5b7e9c1d2a"} {
		if strings.Contains(line, secret) {
			t.Errorf("argv holds %q: %s", secret, line)
		}
	}
	for _, name := range []string{"INDEX_URL", "EXTRA_INDEX_URL", "UPLOAD_TOKEN"} {
		if i := slices.Index(argv, name); i < 1 || argv[i-1] != "-e" {
			t.Errorf("argv does not pass %s by name (-e %s): %q", name, name, argv)
		}
	}
	env := c.ClientEnv()
	for _, kv := range []string{"INDEX_URL=" + opts.IndexURL, "EXTRA_INDEX_URL=" + opts.ExtraIndexURL, "UPLOAD_TOKEN=tok-5b7e9c1d2a"} {
		if !slices.Contains(env, kv) {
			t.Errorf("client environment lacks %s", kv)
		}
	}
}

// The client's environment has one entry per variable, the last given, where
// the first stood; malformed entries pass unchanged.
func TestLastWins(t *testing.T) {
	for _, tc := range []struct{ in, want []string }{
		{nil, []string{}},
		{[]string{"A=1", "B=2"}, []string{"A=1", "B=2"}},
		{[]string{"A=1", "B=2", "A=3"}, []string{"A=3", "B=2"}},
		{[]string{"A=1", "junk", "A=", "=x", "=y"}, []string{"A=", "junk", "=y"}},
		{[]string{"PATH=/bin", "INDEX_URL=a", "INDEX_URL=b", "INDEX_URL=c"}, []string{"PATH=/bin", "INDEX_URL=c"}},
	} {
		if got := lastWins(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("lastWins(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
