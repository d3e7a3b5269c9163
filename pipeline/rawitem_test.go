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
	} {
		if got := string(RawItem([]byte(c.in))); got != c.raw {
			t.Errorf("RawItem(%s) = %s, want %s", c.in, got, c.raw)
		}
		if nb, ok := ItemNotBefore([]byte(c.in)); nb != c.nb || ok != c.ok {
			t.Errorf("ItemNotBefore(%s) = %v, %v; want %v, %v", c.in, nb, ok, c.nb, c.ok)
		}
	}
}
