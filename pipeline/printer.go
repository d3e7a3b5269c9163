package pipeline

import (
	"bufio"
	"fmt"
	"io"
)

// SummaryPrinter prints one line per settled item (the drain command)
// from its own goroutine, so a slow writer does not hold up the settler.
type SummaryPrinter struct {
	out   io.Writer
	lines chan string
	done  chan struct{}
}

// NewSummaryPrinter starts printing to out.
func NewSummaryPrinter(out io.Writer) *SummaryPrinter {
	p := &SummaryPrinter{out: out, lines: make(chan string, 1024), done: make(chan struct{})}
	go p.print(out)
	return p
}

func (p *SummaryPrinter) print(out io.Writer) {
	defer close(p.done)
	bw := bufio.NewWriter(out)
	for l := range p.lines {
		fmt.Fprintln(bw, l)
	}
	bw.Flush()
}

// Settled is DrainOptions.OnSettled; not after Close.
func (p *SummaryPrinter) Settled(_ string, s Summary) { p.lines <- s.String() }

// Close prints what is queued, flushes and returns.
func (p *SummaryPrinter) Close() {
	close(p.lines)
	<-p.done
}

// Finish closes the printer, prints the drain's totals (d nil: the drain
// never started) and returns the command's error: err, else the drain's own
// error. Failed builds are outcomes, not an error.
func (p *SummaryPrinter) Finish(d *Drain, err error) error {
	p.Close()
	if d == nil {
		return err
	}
	st := d.Status()
	fmt.Fprintln(p.out, st.Totals())
	if err != nil {
		return err
	}
	if st.Error != "" {
		return fmt.Errorf("drain %s: %s", st.ID, st.Error)
	}
	return nil
}
