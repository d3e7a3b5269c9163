package hints_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/refinery/refinery-worker/adapters/hints"
)

// countingSource hands out one hint, or fails, and reports every fetch.
type countingSource struct {
	err     error
	fetches chan struct{}
}

func (s countingSource) String() string { return "counting" }
func (s countingSource) Fetch(context.Context) ([]hints.Hint, error) {
	select {
	case s.fetches <- struct{}{}:
	default:
	}
	if s.err != nil {
		return nil, s.err
	}
	return []hints.Hint{{ID: "zlib", Pattern: `zlib\.h`, Confidence: 0.9}}, nil
}

func TestLiveLoadsAtStartAndRefreshesUntilClose(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		wantLoad bool
	}{
		{"loads", nil, true},
		{"first load fails: no catalog, refreshes go on", errors.New("control-plane down"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := countingSource{err: tc.err, fetches: make(chan struct{}, 1)}
			l := hints.StartLive(context.Background(), src, time.Millisecond, slog.New(slog.DiscardHandler))
			<-src.fetches // the first load, done before StartLive returned
			if loaded := l.Catalog() != nil; loaded != tc.wantLoad {
				t.Errorf("catalog loaded at start: %v, want %v", loaded, tc.wantLoad)
			}
			<-src.fetches                     // a refresh
			if err := l.Close(); err != nil { // returns once the refresh loop has ended
				t.Fatal(err)
			}
		})
	}
}
