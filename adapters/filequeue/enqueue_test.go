package filequeue

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// EnqueueOnce appends in order across calls and leaves no owner behind.
func TestEnqueueOnce(t *testing.T) {
	path := queuePath(t)
	ctx := context.Background()
	o := Options{Path: path, Owner: "w1-enqueue"}
	for _, batch := range [][][]byte{{[]byte(`{"package":"a"}`)}, {[]byte(`{"package":"b"}`), []byte(`"c"`)}} {
		if err := EnqueueOnce(ctx, o, batch); err != nil {
			t.Fatal(err)
		}
	}
	got := readItems(t, path)
	if len(got) != 3 || !strings.Contains(string(got[0]), `"a"`) || !strings.Contains(string(got[2]), `"c"`) {
		t.Errorf("queue %q, want a, b, c in order", got)
	}
	if locks, _ := filepath.Glob(path + ".owners/*.lock"); len(locks) != 0 {
		t.Errorf("owner lock files left: %v", locks)
	}
	if err := EnqueueOnce(ctx, o, [][]byte{[]byte(`not json`)}); err == nil || !strings.Contains(err.Error(), "item 0 is not valid JSON") {
		t.Errorf("invalid item: %v", err)
	}
}
