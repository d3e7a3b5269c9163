package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

func byName(entries []pipeline.ManifestEntry) map[string]pipeline.ManifestEntry {
	out := map[string]pipeline.ManifestEntry{}
	for _, en := range entries {
		out[pipeline.NormalizeName(en.Name)] = en
	}
	return out
}

// Every manifest entry carries python_tag and platform_tag: the request's,
// else the plan's, else the target's (PYTHON_VERSION, PLATFORM_TAG), also
// for outcomes that never reached a build (unmatched).
func TestEveryEntryCarriesTargetTags(t *testing.T) {
	e := newEnv(t)
	e.writePlan(t, []string{"planned"})
	e.writeQueue(t, []json.RawMessage{
		json.RawMessage(`{"package":"planned","version":"1.0"}`),
		json.RawMessage(`{"package":"stranger","version":"2.0"}`),
		json.RawMessage(`{"package":"py312","version":"2.0","python_version":"3.12"}`),
		json.RawMessage(`{"package":"tagged","version":"2.0","python_tag":"cp39","platform_tag":"manylinux_2_28_s390x"}`),
	})
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := map[string][3]string{
		"planned":  {string(pipeline.StatusSkipped), "cp311", "manylinux2014_s390x"},
		"stranger": {string(pipeline.StatusUnmatched), "cp311", "manylinux2014_s390x"},
		"py312":    {string(pipeline.StatusUnmatched), "cp312", "manylinux2014_s390x"},
		"tagged":   {string(pipeline.StatusUnmatched), "cp39", "manylinux_2_28_s390x"},
	}
	got := byName(e.manifest(t))
	for name, w := range want {
		en, ok := got[name]
		if !ok {
			t.Errorf("no entry for %s", name)
			continue
		}
		if string(en.Status) != w[0] || en.PythonTag != w[1] || en.PlatformTag != w[2] {
			t.Errorf("%s: %s %q/%q, want %s %q/%q", name, en.Status, en.PythonTag, en.PlatformTag, w[0], w[1], w[2])
		}
	}
}

// Without any plan, an item with a version is built as asked for the target
// (metadata.plan "none"); an item without a version fails no_plan with an
// error that says how to provide a plan.
func TestItemWithoutPlanIsBuiltAsAsked(t *testing.T) {
	e := newEnv(t)
	e.writeQueue(t, []json.RawMessage{
		json.RawMessage(`{"package":"Six","version":"1.16.0"}`),
		json.RawMessage(`{"package":"attrs"}`),
	})
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := byName(e.manifest(t))
	six, attrs := got["six"], got["attrs"]
	// The stub runner (PODMAN_BIN unset) records a job it would have built
	// as skipped; a job that never reached it would be failed or unmatched.
	if six.Status != pipeline.StatusSkipped || six.Version != "1.16.0" || six.Metadata["plan"] != "none" ||
		six.PythonTag != "cp311" || six.PlatformTag != "manylinux2014_s390x" {
		t.Errorf("six = %+v, want a job for 1.16.0 cp311/manylinux2014_s390x with metadata.plan none", six)
	}
	if _, ok := six.Metadata[pipeline.MetaLog]; !ok {
		t.Errorf("six has no job log: %v", six.Metadata)
	}
	msg, _ := attrs.Metadata[pipeline.MetaError].(string)
	if attrs.Status != pipeline.StatusFailed || attrs.Metadata[pipeline.MetaReason] != pipeline.ReasonNoPlan ||
		!strings.Contains(msg, "version") || !strings.Contains(msg, "plan.json") || !strings.Contains(msg, "refinery-worker plan") {
		t.Errorf("attrs = %+v, want failed no_plan with an error saying how to give a version or a plan", attrs)
	}
	if attrs.PythonTag != "cp311" || attrs.PlatformTag != "manylinux2014_s390x" {
		t.Errorf("attrs tags %q/%q, want the target's", attrs.PythonTag, attrs.PlatformTag)
	}
}
