package podman

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMakeJobDir(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		wantErr bool
	}{
		{"fresh", func(*testing.T, string) {}, false},
		{"left by an earlier run", func(t *testing.T, dir string) { mustMkdir(t, dir) }, false},
		{"output dir removed meanwhile", func(t *testing.T, dir string) { mustRemoveAll(t, filepath.Dir(dir)) }, false},
		{"a file in the way", func(t *testing.T, dir string) {
			if err := os.WriteFile(dir, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out", ".build-j")
			mustMkdir(t, filepath.Dir(dir))
			tt.prepare(t, dir)
			err := makeJobDir(dir)
			if (err != nil) != tt.wantErr {
				t.Fatalf("makeJobDir = %v, want error %v", err, tt.wantErr)
			}
			if st, serr := os.Stat(dir); !tt.wantErr && (serr != nil || !st.IsDir()) {
				t.Fatalf("no dir after makeJobDir: %v", serr)
			}
		})
	}
}

func TestRemoveJobDir(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
	}{
		{"empty", func(t *testing.T, dir string) { mustMkdir(t, dir) }},
		{"with files left", func(t *testing.T, dir string) {
			mustMkdir(t, filepath.Join(dir, "sub"))
			if err := os.WriteFile(filepath.Join(dir, "sub", "x.whl"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"already gone", func(*testing.T, string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), ".build-j")
			tt.prepare(t, dir)
			if err := removeJobDir(dir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Fatalf("dir still there: %v", err)
			}
		})
	}
}

func mustMkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func mustRemoveAll(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
}
