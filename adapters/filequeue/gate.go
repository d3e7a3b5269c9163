package filequeue

// gate runs a function beside a transaction's writes and hands its result to
// the step that must not happen before it succeeded (a rename).
type gate struct {
	done chan struct{}
	err  error
}

// startGate runs fn on its own goroutine; a nil fn is a gate that is open at
// once.
func startGate(fn func() error) *gate {
	g := &gate{done: make(chan struct{})}
	if fn == nil {
		close(g.done)
		return g
	}
	go func() {
		defer close(g.done)
		g.err = fn()
	}()
	return g
}

// wait returns fn's error once fn has returned; it may be called any number
// of times.
func (g *gate) wait() error {
	<-g.done
	return g.err
}
