package manifest

// Files: the manifest lock, journals, and the copy-and-rename rewrite of
// manifest.json.

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
	"github.com/refinery/refinery-worker/adapters/tempfile"
	"github.com/refinery/refinery-worker/pipeline"
)

func (s *Store) lockFile() (func(), error) {
	name := filepath.Join(filepath.Dir(s.opts.Path), ".manifest.lock")
	f, err := regfile.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open manifest lock %s: %w", name, err)
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock manifest %s: %w", name, err)
	}
	return func() { f.Close() }, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err != syscall.EINTR {
			return err
		}
	}
}

func (s *Store) deadJournals() ([]*os.File, error) {
	matches, err := filepath.Glob(filepath.Join(filepath.Dir(s.opts.Path), journalPrefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("list manifest journals: %w", err)
	}
	sort.Strings(matches)
	var out []*os.File
	for _, m := range matches {
		f, err := regfile.OpenFile(m, os.O_RDWR, 0)
		if err != nil {
			continue // removed meanwhile
		}
		if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			f.Close() // alive: its owner holds the lock
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// rotate starts a new journal file (see rotateLocked).
func (s *Store) rotate() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rotateLocked()
}

// rotateLocked opens and flocks this process's next journal file, the one
// Record appends to from now on. s.mu is held.
func (s *Store) rotateLocked() error {
	name := filepath.Join(filepath.Dir(s.opts.Path), journalPrefix+s.jid+"."+strconv.Itoa(s.jseq))
	f, err := regfile.OpenFile(name, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("open manifest journal %s: %w", name, err)
	}
	if err := flock(f, syscall.LOCK_EX); err != nil {
		f.Close()
		return fmt.Errorf("lock manifest journal %s: %w", name, err)
	}
	s.jseq++
	s.journal = f
	s.jsize, s.jcut = 0, false
	return nil
}

// dropJournal removes the journal f, whose entries are in manifest.json (or
// which had none).
func (s *Store) dropJournal(f *os.File) error {
	if f == nil {
		return nil
	}
	// Remove while still holding the lock, so nobody takes it for a dead
	// process's journal in between.
	name := f.Name()
	err := os.Remove(name)
	_ = f.Close()
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove manifest journal %s: %w", name, err)
	}
	return nil
}

// randHex returns n random bytes as hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// readJournal returns the journal's entries. A last line cut short (disk
// full, power loss) is skipped with a warning by the caller's logger.
func readJournal(path string) ([][]byte, error) {
	b, err := regfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest journal %s: %w", path, err)
	}
	var out [][]byte
	for _, line := range bytes.Split(b, []byte{'\n'}) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || !json.Valid(line) {
			continue
		}
		out = append(out, append([]byte(nil), line...))
	}
	return out, nil
}

// entryClaim reads the claim and the status of one journal line.
func entryClaim(b []byte) (string, pipeline.Status) {
	var e struct {
		Status   pipeline.Status `json:"status"`
		Metadata struct {
			Claim string `json:"claim"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(b, &e)
	return e.Metadata.Claim, e.Status
}

// readManifest parses manifest.json.
func (s *Store) readManifest() ([]json.RawMessage, error) {
	b, err := regfile.ReadFile(s.opts.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest %s: %w", s.opts.Path, err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("read manifest %s: not a JSON array: %w", s.opts.Path, err)
	}
	return entries, nil
}

// The canonical layout: "[\n", entries each on one line as "  {...}" joined
// by ",\n", then "\n]\n" (or "[\n]\n" when empty). Appending needs only the
// old bytes minus the closing "\n]\n".
const closing = "\n]\n"

// canonical reports whether the file at path is missing or in the canonical
// layout (what appendEntries needs).
func canonical(path string) bool {
	f, err := regfile.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || st.Size() < int64(len("[\n]\n")) {
		return false
	}
	head := make([]byte, 2)
	tail := make([]byte, len(closing))
	if _, err := f.ReadAt(head, 0); err != nil {
		return false
	}
	if _, err := f.ReadAt(tail, st.Size()-int64(len(closing))); err != nil {
		return false
	}
	return string(head) == "[\n" && string(tail) == closing
}

// rewrite writes manifest.json from scratch in the canonical layout.
func (s *Store) rewrite(existing []json.RawMessage, extra [][]byte) error {
	var buf bytes.Buffer
	buf.WriteString("[\n")
	n := 0
	add := func(b []byte) {
		if n > 0 {
			buf.WriteString(",\n")
		}
		buf.WriteString("  ")
		var c bytes.Buffer
		if json.Compact(&c, b) == nil {
			buf.Write(c.Bytes())
		} else {
			buf.Write(b)
		}
		n++
	}
	for _, e := range existing {
		add(e)
	}
	for _, e := range extra {
		add(e)
	}
	if n == 0 {
		buf.WriteString("]\n")
	} else {
		buf.WriteString(closing)
	}
	_, err := s.replace(func(w io.Writer) error { _, err := w.Write(buf.Bytes()); return err })
	return err
}

// appendEntries copies the current manifest.json without its closing bracket
// into a temporary file, appends the entries, and renames it into place. It
// returns the CPU time replace measured (the part that grows with the file).
func (s *Store) appendEntries(entries [][]byte) (time.Duration, error) {
	old, err := regfile.Open(s.opts.Path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, s.rewrite(nil, entries)
	}
	if err != nil {
		return 0, fmt.Errorf("open manifest %s: %w", s.opts.Path, err)
	}
	defer old.Close()
	st, err := old.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat manifest %s: %w", s.opts.Path, err)
	}
	keep := st.Size() - int64(len(closing))
	empty := false
	if st.Size() == int64(len("[\n]\n")) {
		keep, empty = 1, true // "[" of an empty array
	}
	return s.replace(func(w io.Writer) error {
		// A LimitedReader over the *os.File (at offset 0) lets the copy
		// run in the kernel (copy_file_range): half the CPU of a
		// SectionReader's copy through user space for a 3 MiB manifest.
		if _, err := io.Copy(w, io.LimitReader(old, keep)); err != nil {
			return err
		}
		size := len(closing)
		for _, e := range entries {
			size += len(",\n  ") + len(e)
		}
		buf := bytes.NewBuffer(make([]byte, 0, size))
		for i, e := range entries {
			if i == 0 && empty {
				buf.WriteString("\n  ")
			} else {
				buf.WriteString(",\n  ")
			}
			buf.Write(e)
		}
		buf.WriteString(closing)
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// Names of manifest.json's temp files: .manifest-<pid>-<random>.tmp.
const (
	manifestTempPrefix = ".manifest-"
	manifestTempSuffix = ".tmp"
	// staleTemp is the age after which an unlocked temp file whose writer
	// cannot be told is a leftover.
	staleTemp = 10 * time.Minute
)

// removeLeftoverTemps removes the temp files of manifest.json that dead
// writers left (a kill during a rewrite); they are as large as the manifest.
func removeLeftoverTemps(dir string, log *slog.Logger) {
	for _, gone := range tempfile.RemoveLeftovers(dir, manifestTempPrefix, manifestTempSuffix, staleTemp) {
		log.Info("removed a temp file a dead writer left", "path", gone)
	}
}

// replace writes a temporary file next to manifest.json, syncs it and renames
// it over manifest.json. It returns the CPU time of the calling thread from
// the temporary file's creation to the rename: the copy, the sync and the
// freeing of the old file, which grow with manifest.json, not the creation,
// which does not (on an ext4 without a journal, right after many files were
// deleted, one creation alone can take milliseconds of CPU).
func (s *Store) replace(write func(io.Writer) error) (time.Duration, error) {
	dir := filepath.Dir(s.opts.Path)
	tmp, err := tempfile.Create(dir, manifestTempPrefix, manifestTempSuffix)
	if err != nil {
		return 0, fmt.Errorf("write manifest %s: %w", s.opts.Path, err)
	}
	defer os.Remove(tmp.Name())
	start := threadCPU()
	if err := write(tmp); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("write manifest %s: %w", s.opts.Path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return 0, fmt.Errorf("sync manifest %s: %w", s.opts.Path, err)
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("close manifest %s: %w", s.opts.Path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return 0, fmt.Errorf("chmod manifest %s: %w", s.opts.Path, err)
	}
	if err := os.Rename(tmp.Name(), s.opts.Path); err != nil {
		return 0, fmt.Errorf("rename manifest %s: %w", s.opts.Path, err)
	}
	cpu := threadCPU() - start
	// The rename must be on disk before the journals it replaces are
	// removed: on an ext4 without a journal, directory changes reach the
	// disk in no set order, and a power loss could keep the removal and
	// lose the rename.
	if err := regfile.SyncDir(dir); err != nil {
		return cpu, fmt.Errorf("manifest %s: %w", s.opts.Path, err)
	}
	return cpu, nil
}
