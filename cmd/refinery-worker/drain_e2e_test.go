package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// The acceptance test of the foundation: the control-plane's fixture queue
// and plan, drained once by the real binary with the stub runner.
func TestDrainFixtureQueue(t *testing.T) {
	e := newEnv(t)
	e.copyTestdata(t, "retry_queue.json", e.queue)
	e.copyTestdata(t, "plan.json", filepath.Join(e.out, "plan.json"))

	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := map[string]struct {
		status      pipeline.Status
		name        string
		version     string
		pyTag, plat string
	}{
		"lxml":               {pipeline.StatusSkipped, "lxml", "5.2.1", "cp311", "manylinux2014_s390x"},
		"numpy":              {pipeline.StatusSkipped, "numpy", "1.26.4", "cp311", "manylinux2014_s390x"},
		"pyyaml":             {pipeline.StatusSkipped, "PyYAML", "6.0.1", "cp311", "manylinux2014_s390x"},
		"zope-interface":     {pipeline.StatusSkipped, "zope.interface", "6.4", "cp311", "manylinux2014_s390x"},
		"charset-normalizer": {pipeline.StatusSkipped, "charset-normalizer", "3.3.2", "cp311", "manylinux2014_s390x"},
		"six":                {pipeline.StatusReused, "six", "1.16.0", "py3", "any"},
		"requests":           {pipeline.StatusUnmatched, "requests", "2.32.3", "cp311", "manylinux2014_s390x"}, // the target's tags
	}
	entries := e.manifest(t)
	if len(entries) != len(want) {
		t.Fatalf("manifest has %d entries, want %d: %+v", len(entries), len(want), entries)
	}
	for _, got := range entries {
		key := pipeline.NormalizeName(got.Name)
		w, ok := want[key]
		if !ok {
			t.Errorf("unexpected manifest entry %+v", got)
			continue
		}
		delete(want, key)
		if got.Status != w.status || got.Name != w.name || got.Version != w.version || got.PythonTag != w.pyTag || got.PlatformTag != w.plat {
			t.Errorf("%s: got %s %s %s %s/%s, want %s %s %s %s/%s", key, got.Name, got.Version, got.Status, got.PythonTag, got.PlatformTag,
				w.name, w.version, w.status, w.pyTag, w.plat)
		}
		for _, k := range []string{pipeline.MetaDurationMS, pipeline.MetaAttempt, pipeline.MetaClaim, pipeline.MetaCorrelationID} {
			if _, ok := got.Metadata[k]; !ok {
				t.Errorf("%s: metadata lacks %s: %v", key, k, got.Metadata)
			}
		}
		switch got.Status {
		case pipeline.StatusSkipped:
			if got.Metadata[pipeline.MetaRunner] != "stub" {
				t.Errorf("%s: skipped without metadata.runner=stub: %v", key, got.Metadata)
			}
			logPath := filepath.Join(e.out, got.Metadata[pipeline.MetaLog].(string))
			b, err := os.ReadFile(logPath)
			if err != nil {
				t.Errorf("%s: job log: %v", key, err)
			} else if !strings.Contains(string(b), "podman run") || !strings.Contains(string(b), "JOB_NAME="+key) && !strings.Contains(string(b), "JOB_NAME=") {
				t.Errorf("%s: job log does not show the container command:\n%s", key, b)
			}
		case pipeline.StatusUnmatched:
			if got.Metadata[pipeline.MetaError] == nil {
				t.Errorf("%s: unmatched without an error saying why", key)
			}
		}
	}
	// numpy was queued with attempts 1: this is its second attempt.
	for _, got := range entries {
		if got.Name == "numpy" && got.Metadata[pipeline.MetaAttempt] != float64(2) {
			t.Errorf("numpy attempt = %v, want 2", got.Metadata[pipeline.MetaAttempt])
		}
		if got.Name == "lxml" {
			r, _ := json.Marshal(got.Metadata[pipeline.MetaRecipes])
			if string(r) != `["dnf:libxml2-devel","dnf:libxslt-devel"]` {
				t.Errorf("lxml recipes = %s, want request's then plan's without duplicates", r)
			}
		}
	}
	if q := strings.TrimSpace(readFile(t, e.queue)); q != "[]" {
		t.Errorf("queue file after drain = %q, want []", q)
	}
	if inflight := e.queueItems(t, e.queue+".inflight.json"); len(inflight) != 0 {
		t.Errorf("items still held after drain: %s", inflight)
	}
	if !strings.Contains(stdout, "total=7") || !strings.Contains(stdout, "skipped=5") || !strings.Contains(stdout, "reused=1") || !strings.Contains(stdout, "unmatched=1") {
		t.Errorf("drain summary lacks the totals:\n%s", stdout)
	}
	if n := strings.Count(stdout, "\n"); n != 8 {
		t.Errorf("drain printed %d lines, want 7 outcomes and a totals line:\n%s", n, stdout)
	}

	// A second drain over a refilled queue keeps what the first recorded.
	e.copyTestdata(t, "retry_queue.json", e.queue)
	if _, stderr, code := e.run(t, "", "drain"); code != 0 {
		t.Fatalf("second drain exit %d: %s", code, stderr)
	}
	if n := len(e.manifest(t)); n != 14 {
		t.Errorf("after two drains manifest has %d entries, want 14", n)
	}
}

// Every hostile or broken item of the fixture becomes a recorded rejection
// with a reason; none reaches a job log, none stops the drain.
func TestDrainRejectsHostileItems(t *testing.T) {
	e := newEnv(t)
	e.copyTestdata(t, "plan.json", filepath.Join(e.out, "plan.json"))
	var queue []json.RawMessage
	var notJSON int
	for _, line := range fixtureLines(t, "bad-queue-items.jsonl") {
		if !json.Valid([]byte(line)) {
			notJSON++ // cannot stand in a JSON array file; covered by the dequeue stage test
			continue
		}
		queue = append(queue, json.RawMessage(line))
	}
	queue = append(queue, items("lxml")...)
	queue[len(queue)-1] = json.RawMessage(`{"package":"lxml","version":"5.2.1"}`)
	e.writeQueue(t, queue)

	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	rejected := readJSONL(t, filepath.Join(e.out, "rejected.jsonl"))
	if len(rejected) != len(queue)-1 {
		t.Fatalf("%d rejections recorded, want %d:\n%v", len(rejected), len(queue)-1, rejected)
	}
	for _, r := range rejected {
		if r["reason"] == "" || r["reason"] == nil || r["raw"] == "" {
			t.Errorf("rejection without reason or raw item: %v", r)
		}
	}
	entries := e.manifest(t)
	if len(entries) != 1 || entries[0].Name != "lxml" {
		t.Fatalf("manifest = %+v, want only lxml", entries)
	}
	logs, _ := filepath.Glob(filepath.Join(e.out, "logs", "*"))
	for _, l := range logs {
		b := readFile(t, l)
		for _, bad := range []string{"rm -rf", "$(reboot)", "--privileged", "LD_PRELOAD", "curl evil", "passwd"} {
			if strings.Contains(b, bad) {
				t.Errorf("hostile value %q reached a job log %s", bad, l)
			}
		}
	}
	if !strings.Contains(stdout, "rejected=") {
		t.Errorf("summary does not count rejections:\n%s", stdout)
	}
	if notJSON == 0 {
		t.Error("fixture has no non-JSON line; the test lost its point")
	}
}

func fixtureLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(readFile(t, path)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: bad line %q: %v", path, line, err)
		}
		out = append(out, m)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
