package pipeline

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestEnqueueInput(t *testing.T) {
	cases := []struct {
		name    string
		item    Item
		recipes string
		stdin   string
		want    int    // items
		wantErr string // an *InputError containing it
	}{
		{name: "flags", item: Item{Package: "numpy", Version: "2.0.0"}, recipes: "dnf:gcc,pip:cython", want: 1},
		{name: "stdin lines, blanks skipped", stdin: `{"package":"a","version":"1.0"}` + "\n\n" + `{"package":"b"}` + "\n", want: 2},
		{name: "not JSON", stdin: `{"package":"a"}` + "\n{nope\n", wantErr: "stdin line 2 is not valid JSON"},
		{name: "invalid item", stdin: `{"package":"a"}` + "\n" + `{"package":"bad name!"}` + "\n",
			wantErr: "stdin line 2: "},
		{name: "invalid flags item", item: Item{Package: "ok", Version: "not a version"}, wantErr: "the item of the flags: "},
		{name: "empty stdin", stdin: "", want: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			items, err := EnqueueInput(tc.item, tc.recipes, strings.NewReader(tc.stdin))
			if tc.wantErr != "" {
				var ie *InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.wantErr) || items != nil {
					t.Fatalf("err = %v, items %d; want an InputError with %q", err, len(items), tc.wantErr)
				}
				return
			}
			if err != nil || len(items) != tc.want {
				t.Fatalf("items %d, err %v; want %d", len(items), err, tc.want)
			}
			if tc.item.Package != "" {
				var got Item
				if err := json.Unmarshal(items[0], &got); err != nil {
					t.Fatal(err)
				}
				if got.Package != tc.item.Package || len(got.Recipes) != 2 || got.EnqueuedAt == 0 {
					t.Errorf("flags item %+v", got)
				}
			}
		})
	}
}
