package podman

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestDirPool(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	spares := func(t *testing.T, out string) int {
		t.Helper()
		des, err := os.ReadDir(filepath.Join(out, spareDirs))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		return len(des)
	}
	isDir := func(p string) bool { st, err := os.Stat(p); return err == nil && st.IsDir() }
	job := func(out string, i int) string { return filepath.Join(out, ".build-job"+string(rune('a'+i))) }
	tests := []struct {
		name string
		// run uses the pool p on OUTPUT_DIR out and returns a job dir and
		// the spare dirs the pool must hold after.
		run        func(t *testing.T, p *dirPool, out string) (jobDir string, wantSpares int)
		wantJobDir bool // the job dir run returned exists
	}{
		{"first job: mkdir", func(t *testing.T, p *dirPool, out string) (string, int) {
			mustOK(t, p.make(job(out, 0)))
			return job(out, 0), 0
		}, true},
		{"an emptied dir goes to the pool", func(t *testing.T, p *dirPool, out string) (string, int) {
			mustOK(t, p.make(job(out, 0)))
			mustOK(t, p.release(job(out, 0)))
			return job(out, 0), 1
		}, false},
		{"the next job takes the spare", func(t *testing.T, p *dirPool, out string) (string, int) {
			mustOK(t, p.make(job(out, 0)))
			mustOK(t, p.release(job(out, 0)))
			mustOK(t, p.make(job(out, 1)))
			return job(out, 1), 0
		}, true},
		{"a leftover dir with files is used as it is, the spare kept", func(t *testing.T, p *dirPool, out string) (string, int) {
			mustOK(t, p.make(job(out, 0)))
			mustOK(t, p.release(job(out, 0)))
			mustMkdir(t, job(out, 1))
			left := filepath.Join(job(out, 1), "left.whl")
			mustOK(t, os.WriteFile(left, []byte("x"), 0o644))
			mustOK(t, p.make(job(out, 1)))
			if _, err := os.Stat(left); err != nil {
				t.Errorf("the leftover file is gone: %v", err)
			}
			return job(out, 1), 1
		}, true},
		{"a leftover empty dir is replaced by the spare", func(t *testing.T, p *dirPool, out string) (string, int) {
			mustOK(t, p.make(job(out, 0)))
			mustOK(t, p.release(job(out, 0)))
			mustMkdir(t, job(out, 1))
			mustOK(t, p.make(job(out, 1)))
			return job(out, 1), 0
		}, true},
		{"a spare removed by someone else: mkdir", func(t *testing.T, p *dirPool, out string) (string, int) {
			mustOK(t, p.make(job(out, 0)))
			mustOK(t, p.release(job(out, 0)))
			mustRemoveAll(t, filepath.Join(out, spareDirs))
			mustOK(t, p.make(job(out, 1)))
			return job(out, 1), 0
		}, true},
		{"pool full: removed", func(t *testing.T, p *dirPool, out string) (string, int) {
			for i := range maxSpares + 2 {
				mustMkdir(t, job(out, i))
			}
			for i := range maxSpares + 2 {
				mustOK(t, p.release(job(out, i)))
			}
			return job(out, maxSpares+1), maxSpares
		}, false},
		{"a killed worker's spares are removed at start", func(t *testing.T, _ *dirPool, out string) (string, int) {
			mustMkdir(t, filepath.Join(out, spareDirs, "0123456789abcdef"))
			newDirPool(out, quiet)
			return job(out, 0), 0
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			jobDir, wantSpares := tt.run(t, newDirPool(out, quiet), out)
			if got := isDir(jobDir); got != tt.wantJobDir {
				t.Errorf("job dir %s exists = %v, want %v", filepath.Base(jobDir), got, tt.wantJobDir)
			}
			if got := spares(t, out); got != wantSpares {
				t.Errorf("spare dirs on disk = %d, want %d", got, wantSpares)
			}
		})
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
