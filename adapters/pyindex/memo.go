package pyindex

import (
	"context"
	"errors"
	"sync"
)

// memo remembers successful results by key and lets concurrent callers of
// one key share a single call. Errors are not remembered.
type memo[T any] struct {
	mu    sync.Mutex
	done  map[string]T
	calls map[string]*call[T]
}

type call[T any] struct {
	finished chan struct{}
	val      T
	err      error
}

func newMemo[T any]() *memo[T] {
	return &memo[T]{done: map[string]T{}, calls: map[string]*call[T]{}}
}

// do returns the remembered value of key, waits for a call in flight, or
// runs fn. A waiter whose leader was cancelled while the waiter's own
// context is live runs fn itself.
func (m *memo[T]) do(ctx context.Context, key string, fn func() (T, error)) (T, error) {
	for {
		m.mu.Lock()
		if v, ok := m.done[key]; ok {
			m.mu.Unlock()
			return v, nil
		}
		c, inFlight := m.calls[key]
		if !inFlight {
			c = &call[T]{finished: make(chan struct{})}
			m.calls[key] = c
			m.mu.Unlock()
			c.val, c.err = fn()
			m.mu.Lock()
			if c.err == nil {
				m.done[key] = c.val
			}
			delete(m.calls, key)
			m.mu.Unlock()
			close(c.finished)
			return c.val, c.err
		}
		m.mu.Unlock()
		select {
		case <-c.finished:
		case <-ctx.Done():
			var zero T
			return zero, context.Cause(ctx)
		}
		if c.err != nil && isContextError(c.err) && ctx.Err() == nil {
			continue // the leader gave up, not us: try again
		}
		return c.val, c.err
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
