package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
)

// A queue file above QUEUE_FILE_MAX_BYTES is not read into memory: /ready
// fails naming the variable, and the file keeps every item.
func TestQueueFileAboveMaxBytesFailsReadyAndLosesNothing(t *testing.T) {
	e := newEnv(t)
	e.vars["QUEUE_FILE_MAX_BYTES"] = "64KiB"
	var b bytes.Buffer
	b.WriteString("[")
	for i := range 3000 {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `{"package":"p%d","version":"1.0"}`, i)
	}
	b.WriteString("]")
	if err := os.WriteFile(e.queue, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p := e.serve(t)
	code, body := get(t, p.url("/ready"))
	intake, _ := body["checks"].(map[string]any)["intake"].(string)
	if code != http.StatusServiceUnavailable || !strings.Contains(intake, "QUEUE_FILE_MAX_BYTES") {
		t.Errorf("/ready = %d %v, want 503 with the intake naming QUEUE_FILE_MAX_BYTES", code, body)
	}
	p.stop(t, syscall.SIGTERM)
	if got, _ := os.ReadFile(e.queue); !bytes.Equal(got, b.Bytes()) {
		t.Errorf("the queue file changed (%d bytes, was %d)", len(got), b.Len())
	}
	if m := e.manifest(t); len(m) != 0 {
		t.Errorf("%d outcomes recorded from a refused queue file", len(m))
	}
}
