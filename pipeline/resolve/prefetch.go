package resolve

import (
	"context"
	"sync"

	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// DefaultPrefetch is how many index look-ups run ahead of the resolver.
const DefaultPrefetch = 8

// prefetcher warms the index for queued packages while the resolver works
// through the queue: it asks for their releases and for the dependencies
// of their newest final release, and throws the answers away (the index is
// expected to memoise them). Errors are ignored; the resolver meets them
// again when it asks. A nil *prefetcher does nothing.
type prefetcher struct {
	index  Index
	ctx    context.Context
	cancel context.CancelFunc
	sem    chan struct{}
	wg     sync.WaitGroup
	seen   map[string]bool // touched by the resolving goroutine only
}

func newPrefetcher(ctx context.Context, index Index, n int) *prefetcher {
	if n < 0 {
		return nil
	}
	if n == 0 {
		n = DefaultPrefetch
	}
	ctx, cancel := context.WithCancel(ctx)
	return &prefetcher{index: index, ctx: ctx, cancel: cancel, sem: make(chan struct{}, n), seen: map[string]bool{}}
}

func (p *prefetcher) start(name string) {
	if p == nil || p.seen[name] {
		return
	}
	p.seen[name] = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		select {
		case p.sem <- struct{}{}:
		case <-p.ctx.Done():
			return
		}
		defer func() { <-p.sem }()
		releases, err := p.index.Releases(p.ctx, name)
		if err != nil {
			return
		}
		var newest *pep440.Version
		for _, r := range releases {
			if !r.Yanked && !r.Version.IsPrerelease() && (newest == nil || pep440.Compare(r.Version, *newest) > 0) {
				newest = &r.Version
			}
		}
		if newest != nil {
			_, _ = p.index.Dependencies(p.ctx, name, *newest)
		}
	}()
}

// stop cancels outstanding look-ups and waits for them.
func (p *prefetcher) stop() {
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
}
