package pipeline

import (
	"encoding/json"
	"testing"
)

// BenchmarkStageGoroutine is one message's goroutine, as Watermill starts
// it, running stage-like work (decoding an item under a few frames of
// middleware), with and without ReserveStack first.
func BenchmarkStageGoroutine(b *testing.B) {
	raw := []byte(`{"package":"zope.interface","version":"6.4.post2","python_tag":"cp311",
		"platform_tag":"manylinux2014_s390x","recipes":["pip:wheel","apt:libxml2-dev"],"attempts":2,"enqueued_at":1795721514}`)
	var deep func(n int) error
	deep = func(n int) error {
		if n == 0 {
			var it Item
			return json.Unmarshal(raw, &it)
		}
		return deep(n - 1)
	}
	for _, c := range []struct {
		name    string
		reserve bool
	}{{"plain", false}, {"reserved", true}} {
		b.Run(c.name, func(b *testing.B) {
			done := make(chan error)
			for i := range b.N {
				go func() {
					if c.reserve {
						ReserveStack(uint(i))
					}
					done <- deep(12)
				}()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
