package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/refinery/refinery-worker/adapters/joblog"
	"github.com/refinery/refinery-worker/handlers"
	"github.com/refinery/refinery-worker/pipeline"
)

// scripted prints its log lines and ends with its result, as a build would.
type scripted struct {
	lines []string
	res   pipeline.Result
}

func (s scripted) Run(_ context.Context, _ pipeline.Job, log io.Writer) pipeline.Result {
	for _, l := range s.lines {
		_, _ = io.WriteString(log, l+"\n")
	}
	return s.res
}

// removesLog is scripted, then removes the job log file; with tailless
// logs, a diagnosis that still finds its line read it from the closed log's
// memory (handlers.WholeLog).
type removesLog struct{ scripted }

func (r removesLog) Run(ctx context.Context, job pipeline.Job, log io.Writer) pipeline.Result {
	res := r.scripted.Run(ctx, job, log)
	if err := os.Remove(job.LogPath); err != nil {
		res.Error = err.Error()
	}
	return res
}

// tailless opens job logs whose Tail gives nothing.
type tailless struct{ *joblog.Opener }

type taillessLog struct{ *joblog.Log }

func (taillessLog) Tail(int) []string { return nil }

func (o tailless) OpenJobLog(ctx context.Context, job pipeline.Job) (handlers.JobLog, error) {
	jl, err := o.Opener.OpenJobLog(ctx, job)
	if err != nil {
		return nil, err
	}
	return taillessLog{jl.(*joblog.Log)}, nil
}

// results receives the published works.
type results chan *pipeline.Work

func (r results) Publish(_ context.Context, _ string, w *pipeline.Work) error { r <- w; return nil }

type oneHint struct{}

func (oneHint) Match(_ context.Context, _ pipeline.Job, log []string) []pipeline.HintMatch {
	if strings.Contains(strings.Join(log, "\n"), "zlib.h") {
		return []pipeline.HintMatch{{ID: "zlib", Confidence: 0.9}}
	}
	return nil
}

// A failed build carries its diagnosis (class, decisive line, matched hints)
// in the result metadata, /status lists it, and the outcome's detail starts
// with it; a built one carries none.
func TestBuildDiagnosesFailures(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  handlers.Runner
		// noTail: the logs' Tail gives nothing
		noTail bool
		class  pipeline.FailureClass
		hints  int
	}{
		{"missing header", scripted{[]string{"gcc -c zz.c", "zz.c:1:10: fatal error: zlib.h: No such file or directory", "error: command 'gcc' failed"},
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 1, Error: "build exited with code 1"}},
			false, pipeline.ClassMissingHeader, 1},
		{"decisive line far from the end", scripted{append([]string{"zz.c:1:10: fatal error: zlib.h: No such file or directory"},
			slices.Repeat([]string{"  copying data file"}, 500)...),
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 1, Error: "build exited with code 1"}},
			false, pipeline.ClassMissingHeader, 1},
		{"log file gone, lines held in memory", removesLog{scripted{[]string{"gcc -c zz.c", "zz.c:1:10: fatal error: zlib.h: No such file or directory"},
			pipeline.Result{Status: pipeline.StatusFailed, Reason: pipeline.ReasonExit, ExitCode: 1, Error: "build exited with code 1"}}},
			true, pipeline.ClassMissingHeader, 1},
		{"built", scripted{[]string{"ok"}, pipeline.Result{Status: pipeline.StatusBuilt}}, false, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			out := make(results, 1)
			recent := handlers.NewRecentFailures(5)
			var logs handlers.LogOpener = joblog.NewOpener(t.TempDir())
			if tc.noTail {
				logs = tailless{joblog.NewOpener(t.TempDir())}
			}
			b := handlers.NewBuild(ctx, tc.run, logs, out, handlers.NewRunning(), 1, slog.New(slog.DiscardHandler))
			b.MatchHints(oneHint{})
			b.Failures(recent)
			job := &pipeline.Job{ID: "j1", Name: "zz", Display: "zz", Version: "1.0", Attempt: 1}
			if _, err := b.Handle(ctx, &pipeline.Work{CorrelationID: "c1", Job: job}); err != nil {
				t.Fatal(err)
			}
			w := <-out
			b.Wait()
			f, ok := pipeline.FailureOf(w.Result.Metadata)
			if tc.class == "" {
				if ok || len(recent.List()) != 0 {
					t.Fatalf("built result diagnosed: %+v", f)
				}
				return
			}
			if !ok || f.Class != tc.class || !strings.Contains(f.Summary, "fatal error") || len(f.Hints) != tc.hints {
				t.Fatalf("failure = %+v, %v", f, ok)
			}
			if l := recent.List(); len(l) != 1 || l[0].Class != tc.class || len(l[0].HintIDs) != tc.hints {
				t.Fatalf("recent = %+v", l)
			}
			sum := handlers.Summarize(&pipeline.Work{Result: w.Result, Outcome: &pipeline.Outcome{}})
			if !strings.HasPrefix(sum.Detail, "[missing_header] zz.c:1:10: fatal error") {
				t.Fatalf("summary detail = %q", sum.Detail)
			}
		})
	}
}
