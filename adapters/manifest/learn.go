package manifest

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/refinery/refinery-worker/adapters/regfile"
)

// Learn indexes the claims other live workers sharing OUTPUT_DIR recorded
// since the last look: the entries in their journals and the entries
// appended to manifest.json. A streaming intake calls it before handing out
// items a rebalance may have moved here from another worker, so an item that
// worker already recorded is recognised instead of built again. It reads
// only what is new in manifest.json (the file only grows at its end).
func (s *Store) Learn() error {
	var journaled [][]byte
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(s.opts.Path), journalPrefix+"*"))
	for _, m := range matches {
		if strings.HasPrefix(filepath.Base(m), journalPrefix+s.jid+".") {
			continue // ours: already indexed
		}
		entries, err := readJournal(m)
		if err != nil {
			continue // rotated away meanwhile
		}
		journaled = append(journaled, entries...)
	}
	tail, err := s.readNewTail()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Entries in manifest.json are recorded for good.
	for _, e := range tail {
		if claim, st := entryClaim(e); claim != "" {
			if _, ok := s.claims[claim]; !ok {
				s.claims[claim] = st
				s.recent[claim] = e
			}
		}
	}
	// Entries in another worker's journal are not in manifest.json yet: they
	// are kept apart, so that folding that journal in later (when its worker
	// dies) does not take them for duplicates and drop them.
	for _, e := range journaled {
		if claim, _ := entryClaim(e); claim != "" {
			if _, ok := s.claims[claim]; !ok {
				s.learned[claim] = e
			}
		}
	}
	return nil
}

// readNewTail returns the entries written to manifest.json after readOff.
func (s *Store) readNewTail() ([][]byte, error) {
	f, err := regfile.Open(s.opts.Path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	off := s.readOff
	s.mu.Unlock()
	if st.Size() < off {
		off = 0 // rewritten (a recovery): read it whole
	}
	b, err := io.ReadAll(io.NewSectionReader(f, off, st.Size()-off))
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		line = bytes.TrimSuffix(bytes.TrimSpace(line), []byte{','})
		if len(line) > 0 && line[0] == '{' && json.Valid(line) {
			out = append(out, line)
		}
	}
	s.mu.Lock()
	s.readOff = max(0, st.Size()-int64(len(closing)))
	s.mu.Unlock()
	return out, nil
}
