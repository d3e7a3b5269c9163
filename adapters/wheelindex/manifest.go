package wheelindex

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

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
