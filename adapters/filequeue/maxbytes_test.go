package filequeue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// A queue file above MaxBytes is neither read into memory nor changed: Claim,
// Depth and Ready say why, naming QUEUE_FILE_MAX_BYTES; Enqueue refuses what
// would pass the bound; a file back under it is served again.
func TestQueueFileAboveMaxBytesIsRefusedAndKept(t *testing.T) {
	path := queuePath(t)
	var b strings.Builder
	b.WriteString("[")
	for i := range 100 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"package":"p%d","version":"1.0"}`, i)
	}
	b.WriteString("]")
	big := b.String() // ~3.4 KB
	writeFile(t, path, big)
	q := testQueue(t, path, func(o *Options) { o.MaxBytes = 2048 })
	ctx := context.Background()

	var tl *TooLargeError
	if _, err := q.Claim(ctx, 10); !errors.As(err, &tl) || !strings.Contains(err.Error(), "QUEUE_FILE_MAX_BYTES") {
		t.Errorf("Claim err = %v, want a *TooLargeError naming QUEUE_FILE_MAX_BYTES", err)
	}
	if _, _, _, err := q.Depth(ctx); !errors.As(err, &tl) {
		t.Errorf("Depth err = %v, want *TooLargeError", err)
	}
	if err := q.Ready(ctx); !errors.As(err, &tl) || tl.Size != int64(len(big)) || tl.Max != 2048 {
		t.Errorf("Ready err = %v, want *TooLargeError with size %d and max 2048", err, len(big))
	}
	if got, _ := os.ReadFile(path); string(got) != big {
		t.Fatal("the queue file was changed")
	}

	// Under the bound: served; Enqueue refuses what would pass it.
	writeFile(t, path, `[{"package":"a","version":"1.0"}]`)
	before, _ := os.ReadFile(path)
	err := q.Enqueue(ctx, [][]byte{[]byte(`{"package":"x","recipes":["pip:` + strings.Repeat("y", 3000) + `"]}`)})
	if !errors.As(err, &tl) {
		t.Errorf("Enqueue past the bound: err = %v, want *TooLargeError", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Errorf("a refused Enqueue changed the file:\n%s", after)
	}
	if cs := claimAll(t, q, 10); len(cs) != 1 {
		t.Errorf("claimed %d items under the bound, want 1", len(cs))
	}
}
