package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// An item whose not_before the dequeue stage would refuse (1e30, a
// fraction) is handed out at once and recorded in rejected.jsonl with the
// field named, instead of staying in the queue forever.
func TestOutOfRangeNotBeforeIsRejectedNotHeld(t *testing.T) {
	e := newEnv(t)
	e.writeQueue(t, []json.RawMessage{
		json.RawMessage(`{"package":"far","version":"1.0","not_before":1e30}`),
		json.RawMessage(`{"package":"half","version":"1.0","not_before":1795721514.5}`),
		json.RawMessage(`{"package":"ok","version":"1.0"}`),
	})
	stdout, stderr, code := e.run(t, "", "drain")
	if code != 0 {
		t.Fatalf("drain exit %d\n%s\n%s", code, stdout, stderr)
	}
	if left := e.queueItems(t, e.queue); len(left) != 0 {
		t.Errorf("items left in the queue: %s", left)
	}
	b, err := os.ReadFile(filepath.Join(e.out, "rejected.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"far", "half"} {
		found := false
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r struct{ Raw, Field string }
			if json.Unmarshal([]byte(l), &r) == nil && strings.Contains(r.Raw, `"`+name+`"`) && r.Field == "not_before" {
				found = true
			}
		}
		if !found {
			t.Errorf("%s not rejected with field not_before:\n%s", name, b)
		}
	}
	if m := e.manifest(t); len(m) != 1 || m[0].Name != "ok" {
		t.Errorf("manifest = %+v, want the one good item", m)
	}
}
