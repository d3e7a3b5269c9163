package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/controlplane/cpfake"
	"github.com/refinery/refinery-worker/pipeline"
)

// reportingDown answers 503 to every report (manifest, event, logs, live
// streams, plans, build statuses) while down is set; the build queue and
// plan lookups keep working, so a drain runs through a reporting outage.
func reportingDown(fake *cpfake.Server, down *atomic.Bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() && r.Method == http.MethodPost && r.URL.Path != "/api/build-queue/pop" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"outage"}`))
			return
		}
		fake.ServeHTTP(w, r)
	})
}

// The "done when": leased builds drained while the control-plane's
// reporting is down, delivered after it is back, leave at the control-plane,
// for every outcome (skipped, failed, retry, unmatched, reused): the manifest
// entry stamped with the outcome time, the event with the plan node's hint
// ids, the full log and every live line, the local plan's record, and the
// right build status (building only for builds that started). Against both
// control-plane versions: the newer one also stores each failure's one-line
// summary and hint ids, the duration and the heartbeat's run id; the older one
// ignores those fields and has no heartbeat route, and nothing else changes
// (the newer one trims live chunks to LOG_CHUNK_MAX; the full log stays whole).
func TestControlPlaneStoresEveryOutcome(t *testing.T) {
	t.Parallel() // own dirs, ports, control-plane and worker id: waits mostly, so it runs beside the others
	for _, v := range []cpfake.Version{cpfake.VersionOld, cpfake.VersionNew} {
		t.Run(string(v), func(t *testing.T) { controlPlaneStoresEveryOutcome(t, v) })
	}
}

func controlPlaneStoresEveryOutcome(t *testing.T, version cpfake.Version) {
	isNew := version == cpfake.VersionNew
	// The newer version keeps only the last LOG_CHUNK_MAX live chunks per
	// name/version; the full log stays complete.
	const chunkMax = 2
	fake := cpfake.New(cpfake.Options{Token: "tok", Version: version, LogChunkMax: chunkMax})
	var down atomic.Bool
	srv := httptest.NewServer(reportingDown(fake, &down))
	t.Cleanup(srv.Close)
	e := newEnv(t)
	const runID = "contract-run"
	var nodes []pipeline.PlanNode
	// 40 stub builds failing at random (STUB_FAIL_RATIO=0.5): the chance that
	// one of the 20-row halves has no failure (no retry or no failed) is 2^-19.
	for i := range 40 {
		name := fmt.Sprintf("b%02d", i)
		nodes = append(nodes, pipeline.PlanNode{Name: name, Version: "1.0", Action: "build",
			Hints: []byte(`[{"id":"hint-` + name + `","pattern":"x"}]`)})
		// Rows popped for the first time fail into retry; rows tried once
		// before fail for good (MAX_REQUEUE_ATTEMPTS=1).
		fake.AddBuilds(cpfake.Build{Package: name, Version: "1.0", RunID: runID, Attempts: i / 20})
	}
	nodes = append(nodes, pipeline.PlanNode{Name: "six", Version: "1.16.0", Action: "reuse", Hints: []byte(`[{"id":"hint-six"}]`)})
	fake.AddBuilds(cpfake.Build{Package: "six", Version: "1.16.0", RunID: runID},
		cpfake.Build{Package: "ghost", Version: "2.0", RunID: runID}) // not in the plan: unmatched
	b, _ := (&pipeline.Plan{RunID: runID, Nodes: nodes}).MarshalJSON()
	if err := os.WriteFile(filepath.Join(e.out, "plan.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"QUEUE_BACKEND": "controlplane", "CONTROL_PLANE_URL": srv.URL,
		"CONTROL_PLANE_TOKEN": "tok", "STUB_FAIL_RATIO": "0.5", "REQUEUE_ON_FAILURE": "true",
		"MAX_REQUEUE_ATTEMPTS": "1", "BATCH_SIZE": "100", "WORKER_HEARTBEAT_INTERVAL_SEC": "1"} {
		e.vars[k] = v
	}

	down.Store(true)
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 || !strings.Contains(stdout, "total=42") {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	entries := e.manifest(t)
	seen := map[pipeline.Status]int{}
	for _, en := range entries {
		seen[en.Status]++
	}
	for _, st := range []pipeline.Status{pipeline.StatusSkipped, pipeline.StatusFailed, pipeline.StatusRetry,
		pipeline.StatusUnmatched, pipeline.StatusReused} {
		if seen[st] == 0 {
			t.Fatalf("no %s outcome in %v: the test lost its point", st, seen)
		}
	}
	started := seen[pipeline.StatusSkipped] + seen[pipeline.StatusFailed] + seen[pipeline.StatusRetry]
	back := time.Now()
	down.Store(false)
	p := e.serve(t)
	eventually(t, 60*time.Second, "every report delivered", func() bool {
		return len(fake.Manifest()) >= len(entries) && len(fake.Events()) >= len(entries) &&
			len(fake.FullLogs()) >= len(entries) && len(fake.Plans()) >= 1 && len(fake.BuildStatuses()) >= started+len(entries)
	})
	if code, body := get(t, p.url("/ready")); code != http.StatusOK || body["ready"] != true {
		t.Errorf("/ready %d %v", code, body)
	} else if checks, _ := body["checks"].(map[string]any); checks["control_plane"] != "ok" {
		t.Errorf("/ready control_plane check %v", checks["control_plane"])
	}
	if isNew {
		eventually(t, 20*time.Second, "a heartbeat", func() bool { return len(fake.Heartbeats()) > 0 })
		hb := fake.Heartbeats()[0]
		if _, sent := hb["plan_pool_size"]; hb["run_id"] != runID || sent {
			t.Errorf("heartbeat %v: want run_id %s and no plan_pool_size (this worker plans nothing)", hb, runID)
		}
	}
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("serve exit %d", code)
	}

	stored := map[string]cpfake.ManifestRecord{}
	for _, m := range fake.Manifest() {
		stored[m.Name] = m
	}
	events := map[string]cpfake.EventRecord{}
	for _, ev := range fake.Events() {
		events[ev.Name] = ev
	}
	fullLogs := map[string]string{}
	for _, l := range fake.FullLogs() {
		fullLogs[l.Name] = l.Content
	}
	statuses := map[string][]string{}
	for _, s := range fake.BuildStatuses() {
		statuses[s.Package] = append(statuses[s.Package], s.Status)
	}
	rows := map[string]cpfake.Build{}
	for _, r := range fake.Builds() {
		rows[r.Package] = r
	}
	wantRow := map[pipeline.Status]string{pipeline.StatusSkipped: "pending", pipeline.StatusFailed: "failed",
		pipeline.StatusRetry: "retry", pipeline.StatusUnmatched: "failed", pipeline.StatusReused: "built"}
	for _, en := range entries {
		t.Run(string(en.Status)+"/"+en.Name, func(t *testing.T) {
			at, err := time.Parse(time.RFC3339Nano, en.Metadata[pipeline.MetaRecordedAt].(string))
			if err != nil {
				t.Fatal(err)
			}
			m, ok := stored[en.Name]
			if !ok || m.Status != string(en.Status) {
				t.Fatalf("manifest at the control-plane: %+v", m)
			}
			if !m.CreatedAt.Equal(at) || !m.CreatedAt.Before(back) {
				t.Errorf("created_at %s, want the outcome time %s (before the outage ended at %s)", m.CreatedAt, at, back)
			}
			ev := events[en.Name]
			if ev.Status != string(en.Status) || ev.RunID != runID || ev.Timestamp != at.Unix() {
				t.Errorf("event %+v", ev)
			}
			wantHints := []string{"hint-" + en.Name}
			if en.Status == pipeline.StatusUnmatched {
				wantHints = nil
			}
			if !slices.Equal(ev.MatchedHintIDs, wantHints) {
				t.Errorf("matched_hint_ids %v, want %v", ev.MatchedHintIDs, wantHints)
			}
			row := rows[en.Name]
			if row.Status != wantRow[en.Status] {
				t.Errorf("build status %q (history %v), want %q", row.Status, statuses[en.Name], wantRow[en.Status])
			}
			if (ev.DurationMS != nil) != isNew {
				t.Errorf("duration_ms column %v, want stored only by the newer version", ev.DurationMS)
			}
			if en.Status == pipeline.StatusFailed || en.Status == pipeline.StatusRetry {
				if ev.Detail == "" || strings.Contains(ev.Detail, "\n") || strings.Contains(ev.Detail, "podman") {
					t.Errorf("failure detail %q, want its one-line summary", ev.Detail)
				}
				want := ""
				if isNew && en.Status != pipeline.StatusUnmatched {
					// The event's detail is "[class] summary"; the row keeps
					// the bare summary.
					want = ev.Detail
					if i := strings.Index(want, "] "); strings.HasPrefix(want, "[") && i > 0 {
						want = want[i+2:]
					}
				}
				if row.FailureSummary != want {
					t.Errorf("row failure_summary %q, want %q", row.FailureSummary, want)
				}
				if isNew && !slices.Contains(row.ReportedHintIDs, "hint-"+en.Name) {
					t.Errorf("row hint_ids %v, want the node's hint", row.ReportedHintIDs)
				}
			}
			built := en.Status != pipeline.StatusUnmatched && en.Status != pipeline.StatusReused
			if got := slices.Contains(statuses[en.Name], "building"); got != built || built && statuses[en.Name][0] != "building" {
				t.Errorf("statuses %v: building must come first, and only for builds that started", statuses[en.Name])
			}
			if _, ok := fullLogs[en.Name]; !ok {
				t.Errorf("no full log")
			}
			logRel, _ := en.Metadata[pipeline.MetaLog].(string)
			if !built {
				return
			}
			local := readFile(t, filepath.Join(e.out, logRel))
			if fullLogs[en.Name] != local {
				t.Errorf("full log differs from the job log:\n%q\n%q", fullLogs[en.Name], local)
			}
			var want []string
			for _, l := range strings.Split(local, "\n") {
				if l != "" {
					want = append(want, l)
				}
			}
			attempt := strconv.Itoa(int(en.Metadata[pipeline.MetaAttempt].(float64)))
			lines := fake.StreamLines(cpfake.StreamKey{Name: en.Name, Version: en.Version, RunID: runID, Attempt: attempt})
			var got []string
			for i, l := range lines {
				got = append(got, l.Content)
				if i > 0 && l.Seq <= lines[i-1].Seq {
					t.Errorf("live line %d has seq %d after %d", i, l.Seq, lines[i-1].Seq)
				}
			}
			if isNew && len(want) > chunkMax {
				want = want[len(want)-chunkMax:] // trimmed by the control-plane, not lost by the worker
			}
			if !slices.Equal(got, want) {
				t.Errorf("live lines %q, want the job log's %q", got, want)
			}
			if q, _ := en.Metadata["stream_lines_resend_queued"].(float64); q == 0 {
				t.Errorf("metadata %v: the lines missed in the outage were not queued for resending", en.Metadata)
			}
		})
	}
	var plans []cpfake.PlanRecord
	for _, pl := range fake.Plans() {
		if pl.RunID == runID {
			plans = append(plans, pl)
		}
	}
	if len(plans) != 1 || len(plans[0].Plan) != len(nodes) {
		t.Errorf("%d plan records for %s, want one with %d nodes", len(plans), runID, len(nodes))
	}
	if u := fake.UnknownBuildStatuses(); len(u) != 0 {
		t.Errorf("statuses for builds never leased: %+v", u)
	}
	if trimmed := fake.TrimmedChunks(); (trimmed > 0) != isNew {
		t.Errorf("%d live chunks trimmed: the newer version trims, the older never", trimmed)
	}
	if !isNew {
		if n := fake.CountRequests("POST", "/api/worker/heartbeat"); len(fake.Heartbeats()) != 0 || n != 1 {
			t.Errorf("older version: %d heartbeat requests, want one 404 (serve), then none", n)
		}
	}
}
