package wheelaudit

import (
	"archive/zip"
	"fmt"
	"os"
	"path/filepath"
)

// writeWheel writes a new wheel at dst: the members of files in order, raw
// copies except those in replace, which get new content (deflated). It
// writes a temporary file in dst's directory, syncs it and renames it.
func writeWheel(dst string, files []*zip.File, replace map[string][]byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".retag-*.whl.tmp")
	if err != nil {
		return fmt.Errorf("create temporary wheel: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	for _, f := range files {
		data, ok := replace[f.Name]
		if !ok {
			if err := zw.Copy(f); err != nil {
				return fmt.Errorf("copy member %s: %w", f.Name, err)
			}
			continue
		}
		hdr := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: f.Modified}
		hdr.SetMode(f.Mode())
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			return fmt.Errorf("write member %s: %w", f.Name, err)
		}
		if _, err := w.Write(data); err != nil {
			return fmt.Errorf("write member %s: %w", f.Name, err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("finish wheel: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync wheel: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close wheel: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("chmod wheel: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("rename wheel: %w", err)
	}
	return nil
}
