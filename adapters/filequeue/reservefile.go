package filequeue

// The reserve file of one owner: its fixed-width header, its encoding and
// parsing, and reading and writing it. reserve.go moves items through it.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/refinery/refinery-worker/adapters/regfile"
)

// Header operations: none, a move from the queue in progress, a restore to
// the queue in progress (see resolve).
const (
	opNone    = '-'
	opMove    = 'm'
	opRestore = 'r'
)

// reserveHeader is the first line of a reserve file. It has a fixed width so
// that it can be overwritten in place.
type reserveHeader struct {
	dispensed int    // entries before it were handed out (they are in-flight)
	end       int    // with op move/restore: where the entries still valid end
	op        byte   // opNone, opMove, opRestore
	moving    string // 16 hex: the queue temp file of the move/restore in progress
}

var headerLen = len(reserveHeader{op: opNone}.encode())

func (h reserveHeader) encode() []byte {
	mv := h.moving
	if mv == "" {
		mv = noMove
	}
	return fmt.Appendf(nil, `{"dispensed":"%010d","end":"%010d","op":"%c","moving":"%s"}`+"\n", h.dispensed, h.end, h.op, mv)
}

func parseHeader(b []byte) (reserveHeader, error) {
	var raw struct{ Dispensed, End, Op, Moving string }
	if len(b) < headerLen || b[headerLen-1] != '\n' {
		return reserveHeader{}, errors.New("short header")
	}
	if err := json.Unmarshal(b[:headerLen], &raw); err != nil {
		return reserveHeader{}, fmt.Errorf("header: %w", err)
	}
	d, err1 := strconv.Atoi(raw.Dispensed)
	e, err2 := strconv.Atoi(raw.End)
	if err := errors.Join(err1, err2); err != nil || len(raw.Op) != 1 || len(raw.Moving) != len(noMove) {
		return reserveHeader{}, fmt.Errorf("header %q: bad field", b[:headerLen-1])
	}
	return reserveHeader{dispensed: d, end: e, op: raw.Op[0], moving: raw.Moving}, nil
}

// encodeReserve renders a reserve file: the header, then one compact item a
// line.
func encodeReserve(h reserveHeader, items [][]byte) []byte {
	size := headerLen
	for _, it := range items {
		size += len(it) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, h.encode()...)
	for _, it := range items {
		b = append(append(b, it...), '\n')
	}
	return b
}

func parseReserve(data []byte) (reserveHeader, [][]byte, error) {
	h, err := parseHeader(data)
	if err != nil {
		return h, nil, err
	}
	var items [][]byte
	rest := data[headerLen:]
	for len(rest) > 0 {
		line, tail, ok := bytes.Cut(rest, []byte("\n"))
		if !ok {
			return h, nil, errors.New("truncated entry")
		}
		if len(line) == 0 {
			return h, nil, errors.New("empty entry")
		}
		items = append(items, line[:len(line):len(line)])
		rest = tail
	}
	if h.dispensed > len(items) || h.end > len(items) {
		return h, nil, fmt.Errorf("header counts %d/%d beyond %d entries", h.dispensed, h.end, len(items))
	}
	return h, items, nil
}

// reserve is this instance's reserve, as last written. Only its owner changes
// it while the owner lives, so the copy in memory is authoritative.
type reserve struct {
	f     *os.File // open read-write; nil when there is no file
	h     reserveHeader
	items [][]byte
}

func (r *reserve) left() [][]byte { return r.items[min(r.h.dispensed, len(r.items)):] }

func (q *Queue) reservePath(owner string) string {
	return filepath.Join(q.ownersDir, sanitize(owner)+reserveSuffix)
}

// moveTemp names the queue temp file of the move or restore tagged hex. It
// does not match the leftover-temp prefix: only Recover's sweep removes one,
// under the queue lock, once no reserve file names it.
func (q *Queue) moveTemp(hex string) string {
	return filepath.Join(q.dir, "."+filepath.Base(q.path)+".move-"+hex)
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// resolve returns the entries of a reserve file that are in no other place
// (neither queued nor in-flight), whatever step of a move or restore a crash
// interrupted, and the move temp file it names that still exists ("" if
// none). A move temp file exists exactly until its rename into the queue.
func (q *Queue) resolve(h reserveHeader, items [][]byte) ([][]byte, string) {
	d := min(h.dispensed, len(items))
	switch h.op {
	case opMove, opRestore:
		tmp := q.moveTemp(h.moving)
		if exists(tmp) { // the queue was not replaced: as before the move/restore
			return items[d:max(d, min(h.end, len(items)))], tmp
		}
		if h.op == opRestore { // the items reached the queue
			return nil, ""
		}
	}
	return items[d:], ""
}

// readReserve reads and resolves the reserve file at p.
func (q *Queue) readReserve(p string) (reserveHeader, [][]byte, string, error) {
	data, err := regfile.ReadFile(p)
	if err != nil {
		return reserveHeader{}, nil, "", fmt.Errorf("read reserve %s: %w", p, err)
	}
	h, items, err := parseReserve(data)
	if err != nil {
		return h, nil, "", fmt.Errorf("parse reserve %s: %w", p, err)
	}
	left, tmp := q.resolve(h, items)
	return h, left, tmp, nil
}

// reservedItems returns the items every reserve file holds undispensed
// (this instance's own included, read from disk), in owner order. Files
// that cannot be read are skipped: it serves counts only.
func (q *Queue) reservedItems() [][]byte {
	des, err := os.ReadDir(q.ownersDir)
	if err != nil {
		return nil
	}
	var out [][]byte
	for _, de := range des {
		if !strings.HasSuffix(de.Name(), reserveSuffix) {
			continue
		}
		_, left, _, err := q.readReserve(filepath.Join(q.ownersDir, de.Name()))
		if err == nil {
			out = append(out, left...)
		}
	}
	return out
}

// writeReserve replaces this instance's reserve file and reopens it.
func (q *Queue) writeReserve(h reserveHeader, items [][]byte, perm fs.FileMode) error {
	p := q.reservePath(q.owner)
	if _, err := q.replace(p, encodeReserve(h, items), false, perm); err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	f, err := regfile.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("reserve: %w", err)
	}
	if q.res.f != nil {
		_ = q.res.f.Close()
	}
	q.res = reserve{f: f, h: h, items: items}
	return nil
}

// writeHeader overwrites the header of an open reserve file and fsyncs it.
func writeHeader(f *os.File, h reserveHeader) error {
	if _, err := f.WriteAt(h.encode(), 0); err != nil {
		return fmt.Errorf("reserve header %s: %w", f.Name(), err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("reserve header %s: %w", f.Name(), err)
	}
	return nil
}

// dropReserve removes this instance's reserve file once its items are
// elsewhere (a file left behind resolves to nothing: see resolve).
func (q *Queue) dropReserve() {
	if q.res.f == nil {
		return
	}
	_ = q.res.f.Close()
	if err := os.Remove(q.reservePath(q.owner)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		q.log.Warn("remove reserve", "err", err)
	}
	q.res = reserve{}
}
