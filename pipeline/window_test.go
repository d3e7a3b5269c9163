package pipeline

import (
	"testing"
	"time"
)

func TestIntakeWindowSizes(t *testing.T) {
	cases := []struct {
		name               string
		iw                 IntakeWindow
		wantWindow, refill int
		settlingOutside    bool
	}{
		{"one-shot file drain: defaults", IntakeWindow{Batch: 100, Concurrency: 4}, 0, 0, false},
		{"streaming, few builds", IntakeWindow{Batch: 100, Concurrency: 2, Streaming: true}, 16, 0, true},
		{"streaming, many builds", IntakeWindow{Batch: 100, Concurrency: 8, Streaming: true}, 32, 0, true},
		{"control-plane leases", IntakeWindow{Batch: 100, Concurrency: 3, Streaming: true, Leased: true}, 3, 0, false},
		{"watched file, batch wins", IntakeWindow{Batch: 100, Concurrency: 4, Watched: true}, 100, 50, false},
		{"watched file, builds win", IntakeWindow{Batch: 1, Concurrency: 4, Watched: true}, 8, 4, false},
		{"watched file, window of one", IntakeWindow{Batch: 1, Concurrency: 0, Watched: true}, 1, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, r := tc.iw.Sizes()
			if w != tc.wantWindow || r != tc.refill {
				t.Errorf("Sizes = %d, %d; want %d, %d", w, r, tc.wantWindow, tc.refill)
			}
			if got := tc.iw.SettlingOutside(); got != tc.settlingOutside {
				t.Errorf("SettlingOutside = %v, want %v", got, tc.settlingOutside)
			}
		})
	}
}

func TestSettleSpacing(t *testing.T) {
	for fileQueue, want := range map[bool]time.Duration{true: DefaultSettleEvery, false: 0} {
		st := &Settler{every: -1}
		SettleSpacing(fileQueue)(st)
		if st.every != want {
			t.Errorf("file queue %v: every %v, want %v", fileQueue, st.every, want)
		}
	}
}
