package handlers

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirWritable(t *testing.T) {
	dir := t.TempDir()
	if err := DirWritable(dir)(context.Background()); err != nil {
		t.Fatalf("writable temp dir: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the check left %v behind", entries)
	}
	missing := filepath.Join(dir, "gone")
	if err := DirWritable(missing)(context.Background()); err == nil || !strings.Contains(err.Error(), missing+" is not writable") {
		t.Errorf("missing dir: %v", err)
	}
}

type enqueuingIntake struct{}

func (enqueuingIntake) Enqueue(context.Context, [][]byte) error { return nil }

func TestEnqueuerIfReleasing(t *testing.T) {
	for _, tc := range []struct {
		name    string
		durable bool
		intake  any
		want    bool
	}{
		{"durable, can enqueue", true, enqueuingIntake{}, true},
		{"in process", false, enqueuingIntake{}, false},
		{"durable, cannot enqueue", true, struct{}{}, false},
	} {
		if got := EnqueuerIfReleasing(tc.durable, tc.intake) != nil; got != tc.want {
			t.Errorf("%s: enqueuer %v, want %v", tc.name, got, tc.want)
		}
	}
}
