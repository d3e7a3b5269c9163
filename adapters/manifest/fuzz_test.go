package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpenManifest: whatever manifest.json holds, Open either refuses it
// (leaving the file untouched) or keeps every entry it had.
func FuzzOpenManifest(f *testing.F) {
	f.Add([]byte(`[{"name":"a","version":"1","status":"built","metadata":{"claim":"c1"}}]`))
	f.Add([]byte("[\n]\n"))
	f.Add([]byte(`[{"name": "x"`))
	f.Add([]byte(`{"not":"an array"}`))
	f.Add([]byte(`[1, "two", null, {"metadata": {"claim": 3}}]`))
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(t.TempDir(), "manifest.json")
		if err := os.WriteFile(path, content, 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := Open(Options{Path: path})
		if err != nil {
			if b, _ := os.ReadFile(path); !bytes.Equal(b, content) {
				t.Fatalf("refused manifest was changed")
			}
			return
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		var before, after []json.RawMessage
		_ = json.Unmarshal(content, &before)
		b, _ := os.ReadFile(path)
		if err := json.Unmarshal(b, &after); err != nil {
			t.Fatalf("manifest no longer parses: %v\n%s", err, b)
		}
		if len(before) != len(after) {
			t.Fatalf("%d entries became %d", len(before), len(after))
		}
	})
}
