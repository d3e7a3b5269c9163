package filequeue

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/refinery/refinery-worker/adapters/regfile"
	"github.com/refinery/refinery-worker/pipeline"
)

// Options configure a [Queue]. Only Path is required.
type Options struct {
	// Path is QUEUE_FILE, the control-plane's queue file. Its directory is
	// created when missing; the file itself is created as "[]" when missing.
	Path string
	// Owner names this worker (WORKER_ID); the owner id of a Queue is
	// Owner-<pid>-<random>, with characters outside [A-Za-z0-9._-] replaced
	// by '_'. Default: the host name.
	Owner string
	// ParseRetries is how many times a read that does not parse is retried
	// before giving up with an error. Default 5; negative means 0.
	ParseRetries int
	// ParseBackoff is the wait before the first retry; it doubles on each.
	// Default 10ms (5 retries wait 310ms in all).
	ParseBackoff time.Duration
	// LockTimeout bounds the wait for the queue lock on top of the caller's
	// context. Default 30s; negative means only the context bounds it.
	LockTimeout time.Duration
	// Logger receives warnings (retried reads, recoveries). Default: discard.
	Logger *slog.Logger
	// Now is the clock for not_before and claimed_at. Default time.Now.
	Now func() time.Time
	// MaxBytes (QUEUE_FILE_MAX_BYTES) bounds the queue file this instance
	// reads: parsed, a file takes several times its size in memory. A larger
	// file is not read, nor changed: Claim, Depth and Ready fail with a
	// *TooLargeError, and Enqueue refuses items that would make it larger
	// (counting the items owners hold in reserve, docs/filequeue.md).
	// Items put back (settle, requeue) are never refused. 0: no bound.
	MaxBytes int64
}

// TooLargeError is a queue file above Options.MaxBytes.
type TooLargeError struct {
	Path      string
	Size, Max int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("queue file %s is %d bytes, above QUEUE_FILE_MAX_BYTES (%d): nothing was taken from it; "+
		"split it into smaller files or raise the limit", e.Path, e.Size, e.Max)
}

// checkSize refuses a queue file of size bytes above MaxBytes.
func (q *Queue) checkSize(size int64) error {
	if q.opts.MaxBytes > 0 && size > q.opts.MaxBytes {
		return &TooLargeError{Path: q.path, Size: size, Max: q.opts.MaxBytes}
	}
	return nil
}

// Queue is the file intake. Its methods are safe for concurrent use, within
// the process and across processes sharing the file.
type Queue struct {
	opts       Options
	log        *slog.Logger
	path       string // queue file
	dir        string // its directory
	flightPath string // in-flight file
	ownersDir  string
	owner      string

	mu        sync.Mutex // serialises this instance's callers; guards below
	closed    bool
	ownerLock *os.File // flock'ed for the life of the instance

	queueCache  queueCache
	flightCache flightCache
	settled     claimRing // claims this instance settled lately
	res         reserve   // this instance's reserve (reserve.go)
	resBroken   error     // set when the reserve was left mid-change: no more claims

	batchItems, batchBytes int // bounds of a reserve batch (reserve.go)

	parseFailHook   func(attempt int) // tests: called after a failed parse
	afterQueueWrite func()            // tests: called after the queue file is replaced
	stepHook        func(step string) // tests: called after each write step of a reserve change
	dirSynced       func(dir string)  // tests: called after each directory fsync
}

var _ pipeline.Intake = (*Queue)(nil)

// ErrClosed is returned by the methods of a closed Queue.
var ErrClosed = errors.New("file queue closed")

// Open prepares the queue at opts.Path and registers this instance as a live
// owner (its lock file under <Path>.owners/). It does not read the queue.
func Open(opts Options) (*Queue, error) {
	if opts.Path == "" {
		return nil, errors.New("open file queue: empty path")
	}
	if opts.ParseRetries == 0 {
		opts.ParseRetries = 5
	}
	opts.ParseRetries = max(opts.ParseRetries, 0)
	if opts.ParseBackoff <= 0 {
		opts.ParseBackoff = 10 * time.Millisecond
	}
	if opts.LockTimeout == 0 {
		opts.LockTimeout = 30 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Owner == "" {
		opts.Owner, _ = os.Hostname()
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("open file queue %s: %w", opts.Path, err)
	}
	q := &Queue{
		opts:       opts,
		path:       path,
		dir:        filepath.Dir(path),
		flightPath: path + ".inflight.json",
		ownersDir:  path + ".owners",
		batchItems: reserveMaxItems,
		batchBytes: reserveMaxBytes,
	}
	if err := os.MkdirAll(q.ownersDir, 0o755); err != nil {
		return nil, fmt.Errorf("open file queue %s: %w", path, err)
	}
	if err := q.register(sanitize(opts.Owner)); err != nil {
		return nil, err
	}
	q.log = opts.Logger.With("queue", path, "owner", q.owner)
	q.removeLeftoverTemps()
	return q, nil
}

// sanitize makes s safe as part of a file name.
func sanitize(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '_'
	}, s)
	if s == "" || s[0] == '.' {
		s = "w" + s
	}
	return s
}

// register picks a fresh owner id and creates and locks its lock file.
func (q *Queue) register(prefix string) error {
	for range 10 {
		owner := prefix + "-" + strconv.Itoa(os.Getpid()) + "-" + randHex(4)
		f, err := q.createOwnerFile(owner)
		if err != nil {
			return err
		}
		if f != nil {
			q.owner, q.ownerLock = owner, f
			return nil
		}
	}
	return fmt.Errorf("register owner in %s: no usable owner id", q.ownersDir)
}

// createOwnerFile creates and locks the lock file of owner. It returns nil
// (and no error) when the file exists, or when its lock cannot be taken or it
// was removed before the lock took hold (a Recover judged it dead).
func (q *Queue) createOwnerFile(owner string) (*os.File, error) {
	p := q.ownerPath(owner)
	f, err := regfile.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("register owner %s: %w", p, err)
	}
	if flock(f, syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		_ = f.Close()
		return nil, nil
	}
	if same, err := samePath(f, p); err != nil || !same {
		_ = f.Close()
		return nil, nil
	}
	_, _ = fmt.Fprintf(f, "pid=%d started=%s\n", os.Getpid(), q.opts.Now().UTC().Format(time.RFC3339))
	return f, nil
}

// ensureOwner re-creates this instance's lock file if something removed it
// (a /tmp cleaner, an operator), so that peers keep seeing it alive. It runs
// under the queue lock, so no Recover judges the owner meanwhile.
func (q *Queue) ensureOwner() error {
	p := q.ownerPath(q.owner)
	if same, err := samePath(q.ownerLock, p); err == nil && same {
		return nil
	}
	if err := os.MkdirAll(q.ownersDir, 0o755); err != nil {
		return fmt.Errorf("owner dir %s: %w", q.ownersDir, err)
	}
	f, err := q.createOwnerFile(q.owner)
	if err != nil {
		return err
	}
	if f == nil {
		return fmt.Errorf("owner lock %s was replaced by another process", p)
	}
	q.log.Warn("owner lock file was removed; re-created it", "path", p)
	old := q.ownerLock
	q.ownerLock = f
	_ = old.Close()
	return nil
}

func (q *Queue) ownerPath(owner string) string {
	return filepath.Join(q.ownersDir, sanitize(owner)+".lock")
}

// Owner returns this instance's owner id, as written in the in-flight file.
func (q *Queue) Owner() string { return q.owner }

// Path returns the absolute path of the queue file.
func (q *Queue) Path() string { return q.path }

// Close puts this instance's reserve (items taken from the queue but not
// handed out) back at the head of the queue, then gives up its liveness: it
// removes its owner lock file and releases the lock. Items it still holds
// stay in the in-flight file under its owner id; any other instance's
// Recover takes them over (with their claims). A worker that wants them back
// in the queue settles them with Return first. If the reserve cannot be put
// back, Close still closes and reports it: the next Recover puts it back.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	var resErr error
	if len(q.res.left()) > 0 && q.resBroken == nil {
		resErr = q.doLocked(context.Background(), func(t *txn) error {
			items, err := t.queue()
			if err != nil {
				return err
			}
			return t.restoreOwn(nil, items)
		})
		if resErr != nil {
			resErr = fmt.Errorf("close: return reserve to the queue: %w", resErr)
		}
	} else if q.resBroken == nil {
		q.dropReserve() // nothing left in it
	}
	q.closed = true
	if q.res.f != nil {
		_ = q.res.f.Close()
	}
	rmErr := os.Remove(q.ownerPath(q.owner))
	if errors.Is(rmErr, fs.ErrNotExist) {
		rmErr = nil
	}
	if err := q.ownerLock.Close(); err != nil {
		return errors.Join(resErr, fmt.Errorf("close owner lock %s: %w", q.owner, err))
	}
	if rmErr != nil {
		return errors.Join(resErr, fmt.Errorf("remove owner lock %s: %w", q.owner, rmErr))
	}
	return resErr
}

// Ready checks that the queue and in-flight files can be read and parsed and
// that their directory is writable. It takes no lock.
func (q *Queue) Ready(ctx context.Context) error {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if _, err := q.readQueueUnlocked(ctx); err != nil {
		return err
	}
	data, err := regfile.ReadFile(q.flightPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read in-flight %s: %w", q.flightPath, err)
	}
	if err == nil {
		if _, err := parseEntries(data); err != nil {
			return fmt.Errorf("parse in-flight %s: %w", q.flightPath, err)
		}
	}
	f, err := os.CreateTemp(q.dir, ".ready-*")
	if err != nil {
		return fmt.Errorf("queue dir %s not writable: %w", q.dir, err)
	}
	_ = f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fmt.Errorf("queue dir %s: %w", q.dir, err)
	}
	return nil
}

// Depth counts the queued items, those in owners' reserves included (taken
// from the queue file but not handed out): ready ones, delayed ones
// (not_before in the future) and the oldest enqueued_at among items that
// have one (zero when none). Held (in-flight) items are not counted. It
// takes no lock.
func (q *Queue) Depth(ctx context.Context) (ready, delayed int, oldest time.Time, err error) {
	items, err := q.readQueueUnlocked(ctx)
	if err != nil {
		return 0, 0, time.Time{}, err
	}
	now := q.opts.Now()
	var min int64
	for _, it := range slices.Concat(q.reservedItems(), items) {
		if due(it, now) {
			ready++
		} else {
			delayed++
		}
		if at, ok := unixField(it, "enqueued_at"); ok && at > 0 && (min == 0 || at < min) {
			min = at
		}
	}
	if min > 0 {
		oldest = time.Unix(min, 0)
	}
	return ready, delayed, oldest, nil
}
