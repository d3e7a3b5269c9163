package pyindex

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// diskCache stores responses with their validators, one JSON file per URL.
// A nil *diskCache caches nothing.
type diskCache struct {
	dir string
}

type cacheEntry struct {
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	ContentType  string `json:"content_type,omitempty"`
	Body         []byte `json:"body"`
}

func (d *diskCache) path(key string) string {
	sum := sha256.Sum256([]byte(key))
	name := hex.EncodeToString(sum[:])
	return filepath.Join(d.dir, "pyindex", name[:2], name+".json")
}

// load returns the entry for key, or nil when absent or unreadable.
func (d *diskCache) load(key string) *cacheEntry {
	if d == nil {
		return nil
	}
	b, err := os.ReadFile(d.path(key))
	if err != nil {
		return nil
	}
	var e cacheEntry
	if json.Unmarshal(b, &e) != nil {
		return nil
	}
	return &e
}

// store writes the entry atomically (temp file, then rename).
func (d *diskCache) store(key string, e *cacheEntry) error {
	if d == nil {
		return nil
	}
	p := d.path(key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("cache dir: %w", err)
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode cache entry: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("cache temp file: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("write cache entry: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("close cache entry: %w", err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("rename cache entry: %w", err)
	}
	return nil
}
