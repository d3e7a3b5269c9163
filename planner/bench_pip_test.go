package planner_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/pyindex"
	"github.com/refinery/refinery-worker/internal/testkit/pyindextest"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
	"github.com/refinery/refinery-worker/pipeline/resolve"
)

// benchPipMaxProjects is the largest graph pip is run on by default
// (REFINERY_BENCH_PIP_MAX_PROJECTS overrides it; 0 skips pip). pip takes
// about 40 s on 1,000 projects and minutes beyond.
const benchPipMaxProjects = 1000

// benchResolveTimeout bounds the resolver's runs on one graph.
const benchResolveTimeout = 5 * time.Minute

// benchPipTimeout bounds one pip run (REFINERY_BENCH_PIP_TIMEOUT, a Go
// duration, overrides it).
const benchPipTimeout = 10 * time.Minute

// BenchmarkResolveVsPip resolves generated graphs of 320, 300, 1,000 and
// 3,000 projects with 1%, 3% and 10% of the newest releases broken (they
// need a version that does not exist), over a loopback PEP 691/658 index,
// and runs pip's resolver on the same index for comparison. Each line
// reports the resolver's time, whether its answer is valid, pip's time and
// whether pip found a set; pip runs once per graph (outside b.Loop).
//
//	go test -run '^$' -bench ResolveVsPip -benchtime 1x ./planner/
func BenchmarkResolveVsPip(b *testing.B) {
	pipMax := envInt(b, "REFINERY_BENCH_PIP_MAX_PROJECTS", benchPipMaxProjects)
	pipTimeout := benchPipTimeout
	if s := os.Getenv("REFINERY_BENCH_PIP_TIMEOUT"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			b.Fatalf("REFINERY_BENCH_PIP_TIMEOUT: %v", err)
		}
		pipTimeout = d
	}
	for _, n := range []int{320, 300, 1000, 3000} {
		for _, pct := range []float64{1, 3, 10} {
			if n == 320 && pct != 3 {
				continue // the reference graph: 320 projects, 3%
			}
			b.Run(fmt.Sprintf("projects=%d/broken=%g%%", n, pct), func(b *testing.B) {
				benchVsPip(b, pyindextest.GraphSpec{Projects: n, BrokenPercent: pct, Seed: 1}, n <= pipMax, pipTimeout)
			})
		}
	}
}

func benchVsPip(b *testing.B, spec pyindextest.GraphSpec, runPip bool, pipTimeout time.Duration) {
	g := pyindextest.NewGraph(spec)
	idx, err := pyindextest.Start(g.Dists, pyindextest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(idx.Close)
	var roots []pep508.Requirement
	for _, line := range g.Roots {
		r, err := pep508.ParseRequirement(line)
		if err != nil {
			b.Fatal(err)
		}
		roots = append(roots, r)
	}
	env := pep508.TargetEnv("3.11", "manylinux2014_s390x")
	var res *resolve.Resolution
	var resErr error
	// Each resolve is bounded so the benchmark bounds its own runtime.
	ctx, cancel := context.WithTimeout(context.Background(), benchResolveTimeout)
	defer cancel()
	for b.Loop() {
		// A fresh client each time: no answer is reused between runs.
		client, err := pyindex.New(pyindex.Config{IndexURL: idx.URL(), PythonVersion: "3.11", Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		res, resErr = resolve.New(client, resolve.Options{Env: env, Logger: quiet, MaxDeps: 100000}).Resolve(ctx, roots)
	}
	ours := b.Elapsed() / time.Duration(b.N)
	valid := "no set"
	if resErr == nil {
		assign := map[string]string{}
		for _, p := range res.Packages {
			assign[p.Name] = p.Version.String()
		}
		if err := checkGraphAssignment(g, assign); err != nil {
			b.Fatalf("invalid resolution: %v", err)
		}
		valid = fmt.Sprintf("valid set of %d", len(assign))
	}
	b.ReportMetric(ours.Seconds(), "s/resolve")
	pipLine := "pip not run: graph larger than REFINERY_BENCH_PIP_MAX_PROJECTS (pip would take minutes)"
	if runPip {
		pipLine = runPipOn(b, idx.URL(), g, pipTimeout)
	}
	b.Logf("%d projects, %g%% broken: resolver %.2fs (%s; err=%v) | %s",
		spec.Projects, spec.BrokenPercent, ours.Seconds(), valid, resErr, pipLine)
}

// runPipOn runs pip's resolver once and describes the outcome.
func runPipOn(b *testing.B, indexURL string, g pyindextest.Graph, timeout time.Duration) string {
	python, err := exec.LookPath("python3")
	if err != nil {
		return "pip not run: python3 not found"
	}
	dir := b.TempDir()
	reqPath := filepath.Join(dir, "requirements.txt")
	if err := os.WriteFile(reqPath, []byte(strings.Join(g.Roots, "\n")+"\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	report := filepath.Join(dir, "report.json")
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, python, "-m", "pip", "install", "--isolated", "--dry-run", "--ignore-installed",
		"--no-cache-dir", "--disable-pip-version-check", "--quiet", "--report", report, "--index-url", indexURL, "-r", reqPath)
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	switch {
	case ctx.Err() != nil:
		return fmt.Sprintf("pip stopped after %s (REFINERY_BENCH_PIP_TIMEOUT)", timeout)
	case err != nil:
		last := strings.TrimSpace(string(out))
		if i := strings.LastIndex(last, "\n"); i >= 0 {
			last = last[i+1:]
		}
		return fmt.Sprintf("pip %.2fs: no set (%s)", took.Seconds(), last)
	}
	pins := readPipReport(b, report)
	if err := checkGraphAssignment(g, pins); err != nil {
		return fmt.Sprintf("pip %.2fs: invalid set: %v", took.Seconds(), err)
	}
	return fmt.Sprintf("pip %.2fs: valid set of %d", took.Seconds(), len(pins))
}

// checkGraphAssignment checks that assign (name → version) meets the
// graph's roots and every chosen release's dependencies, independently of
// the resolver.
func checkGraphAssignment(g pyindextest.Graph, assign map[string]string) error {
	deps := map[string][]string{}
	for _, d := range g.Dists {
		deps[d.Name+"=="+d.Version] = d.Requires
	}
	check := func(line, by string) error {
		r, err := pep508.ParseRequirement(line)
		if err != nil {
			return err
		}
		v, ok := assign[r.Key()]
		if !ok {
			return fmt.Errorf("%s (from %s) missing", line, by)
		}
		if !r.Specifiers.Contains(pep440.MustParse(v), true) {
			return fmt.Errorf("%s==%s does not meet %s (from %s)", r.Key(), v, line, by)
		}
		return nil
	}
	for _, root := range g.Roots {
		if err := check(root, "requirements"); err != nil {
			return err
		}
	}
	for name, v := range assign {
		reqs, ok := deps[name+"=="+v]
		if !ok {
			return fmt.Errorf("%s==%s is not on the index", name, v)
		}
		for _, line := range reqs {
			if err := check(line, name+" "+v); err != nil {
				return err
			}
		}
	}
	return nil
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return n
}
