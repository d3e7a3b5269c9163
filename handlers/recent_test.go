package handlers

import (
	"fmt"
	"slices"
	"testing"

	"github.com/refinery/refinery-worker/pipeline"
)

// /status lists the last failures, newest first, however many came before.
func TestRecentFailuresKeepsTheLastNewestFirst(t *testing.T) {
	for _, tc := range []struct {
		keep, noted int
		want        []string
	}{
		{keep: 3, noted: 0, want: []string{}},
		{keep: 3, noted: 2, want: []string{"j1", "j0"}},
		{keep: 3, noted: 3, want: []string{"j2", "j1", "j0"}},
		{keep: 3, noted: 4, want: []string{"j3", "j2", "j1"}},
		{keep: 3, noted: 8, want: []string{"j7", "j6", "j5"}},
		{keep: 1, noted: 5, want: []string{"j4"}},
		{keep: 0, noted: 2, want: []string{"j1"}}, // at least one is kept
	} {
		t.Run(fmt.Sprintf("keep %d of %d", tc.keep, tc.noted), func(t *testing.T) {
			r := NewRecentFailures(tc.keep)
			for i := range tc.noted {
				r.note(pipeline.Job{ID: fmt.Sprintf("j%d", i)}, pipeline.Failure{Class: pipeline.ClassUnknown})
			}
			got := []string{}
			for _, n := range r.List() {
				got = append(got, n.Job)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("List = %v, want %v", got, tc.want)
			}
		})
	}
}
