package wheelindex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/refinery/refinery-worker/pipeline"
)

// BuiltWheels returns the wheels of the built entries of the manifest at
// path (OUTPUT_DIR/manifest.json), oldest first; none when it is missing.
func BuiltWheels(path string) ([]pipeline.Wheel, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	defer f.Close()
	var entries []struct {
		Status   pipeline.Status `json:"status"`
		Metadata struct {
			Wheels []pipeline.Wheel `json:"wheels"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(f).Decode(&entries); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", path, err)
	}
	var out []pipeline.Wheel
	for _, e := range entries {
		if e.Status == pipeline.StatusBuilt {
			out = append(out, e.Metadata.Wheels...)
		}
	}
	return out, nil
}

// PublishManifest publishes the built wheels of OUTPUT_DIR/manifest.json
// that are still in OUTPUT_DIR and not yet in the index (a publish that
// failed). It returns how many it added and why the others could not be.
func (x *Index) PublishManifest(ctx context.Context, outputDir string) (added int, problems []string, err error) {
	wheels, err := BuiltWheels(filepath.Join(outputDir, "manifest.json"))
	if err != nil {
		return 0, nil, err
	}
	for _, w := range wheels {
		if err := ctx.Err(); err != nil {
			return added, problems, err
		}
		if w.File == "" || w.File != filepath.Base(w.File) {
			problems = append(problems, fmt.Sprintf("manifest wheel %q is not a plain file name", w.File))
			continue
		}
		src := filepath.Join(outputDir, w.File)
		if _, err := os.Stat(src); err != nil {
			continue // its file is gone; what the index holds stays
		}
		p, err := x.Publish(ctx, src, w.SHA256)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if !p.Existed {
			added++
		}
	}
	return added, problems, nil
}
