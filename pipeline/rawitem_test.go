package pipeline

import "testing"

func TestRawItemAndNotBefore(t *testing.T) {
	for _, c := range []struct {
		in, raw string
		nb      float64
		ok      bool
	}{
		{`{"package":"a","not_before":1795721514}`, `{"package":"a","not_before":1795721514}`, 1795721514, true},
		{`{"package":"a","not_before":"soon"}`, `{"package":"a","not_before":"soon"}`, 0, false},
		{`{"package":"a"}`, `{"package":"a"}`, 0, false},
		{`not json`, `"not json"`, 0, false},
		// Values the dequeue stage rejects are no delay: the item is handed
		// out at once and rejected with a reason, never held forever.
		{`{"package":"a","not_before":1e30}`, `{"package":"a","not_before":1e30}`, 0, false},
		{`{"package":"a","not_before":-1e16}`, `{"package":"a","not_before":-1e16}`, 0, false},
		{`{"package":"a","not_before":1795721514.5}`, `{"package":"a","not_before":1795721514.5}`, 0, false},
		{`{"package":"a","not_before":1.7957e9}`, `{"package":"a","not_before":1.7957e9}`, 1.7957e9, true},
	} {
		if got := string(RawItem([]byte(c.in))); got != c.raw {
			t.Errorf("RawItem(%s) = %s, want %s", c.in, got, c.raw)
		}
		if nb, ok := ItemNotBefore([]byte(c.in)); nb != c.nb || ok != c.ok {
			t.Errorf("ItemNotBefore(%s) = %v, %v; want %v, %v", c.in, nb, ok, c.nb, c.ok)
		}
	}
}
