// Package redact replaces secret values with [REDACTED] in logs, events and
// files, both in one-shot form (String, Bytes) and as a streaming io.Writer
// that stays correct when a secret is split across two Write calls.
package redact

import (
	"bytes"
	"io"
	"net/url"
	"slices"
	"strings"
)

// Mask replaces every secret value.
const Mask = "[REDACTED]"

// MinSecretLen is the shortest value treated as a secret: shorter values (""
// "1", "true", "abc12") would mask ordinary text and protect nothing.
const MinSecretLen = 6

// Redactor knows a fixed set of secrets. A nil or empty Redactor passes text
// through. It is safe for concurrent use.
type Redactor struct {
	secrets [][]byte // longest first
	maxLen  int
}

// New returns a Redactor for secrets; values shorter than MinSecretLen and
// duplicates are ignored.
func New(secrets ...string) *Redactor {
	r := &Redactor{}
	seen := map[string]bool{}
	for _, s := range secrets {
		if len(s) < MinSecretLen || seen[s] {
			continue
		}
		seen[s] = true
		r.secrets = append(r.secrets, []byte(s))
		r.maxLen = max(r.maxLen, len(s))
	}
	slices.SortFunc(r.secrets, func(a, b []byte) int { return len(b) - len(a) })
	return r
}

// Len returns how many secrets r masks.
func (r *Redactor) Len() int {
	if r == nil {
		return 0
	}
	return len(r.secrets)
}

// Bytes returns b with every secret masked (b itself when there is none).
func (r *Redactor) Bytes(b []byte) []byte {
	if r.Len() == 0 || !r.contains(b) {
		return b
	}
	var out bytes.Buffer
	rest := r.redact(&out, b, true)
	out.Write(rest)
	return out.Bytes()
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r.Len() == 0 {
		return s
	}
	return string(r.Bytes([]byte(s)))
}

func (r *Redactor) contains(b []byte) bool {
	for _, s := range r.secrets {
		if bytes.Contains(b, s) {
			return true
		}
	}
	return false
}

// next returns the earliest match in b (the longest one at that position),
// or -1.
func (r *Redactor) next(b []byte) (pos, n int) {
	pos = -1
	for _, s := range r.secrets {
		if i := bytes.Index(b, s); i >= 0 && (pos < 0 || i < pos) {
			pos, n = i, len(s)
		}
	}
	return pos, n
}

// redact writes the masked form of buf to out, except for a tail that a secret
// continuing in later input could start in (unless final); it returns that
// tail. Any secret starting before the held tail lies wholly inside buf, so it
// is found here.
func (r *Redactor) redact(out *bytes.Buffer, buf []byte, final bool) []byte {
	limit := len(buf)
	if !final {
		limit = max(len(buf)-(r.maxLen-1), 0)
	}
	i := 0
	for i < limit {
		pos, n := r.next(buf[i:])
		if pos < 0 || i+pos >= limit {
			out.Write(buf[i:limit])
			i = limit
			break
		}
		out.Write(buf[i : i+pos])
		out.WriteString(Mask)
		i += pos + n
	}
	return buf[i:]
}

// Writer masks secrets in a stream before it reaches the underlying writer.
// It holds back up to len(longest secret)-1 bytes between writes; Flush or
// Close writes them. A Writer is not safe for concurrent use.
type Writer struct {
	r       *Redactor
	w       io.Writer
	pending []byte
	out     bytes.Buffer
}

// NewWriter returns a Writer that writes the masked stream to w.
func NewWriter(w io.Writer, r *Redactor) *Writer {
	return &Writer{r: r, w: w}
}

// Write masks what it can decide now and writes it; it reports len(p) on
// success, as io.Writer requires, even though some bytes may be held back.
func (w *Writer) Write(p []byte) (int, error) {
	if w.r.Len() == 0 {
		return w.w.Write(p)
	}
	w.pending = append(w.pending, p...)
	w.out.Reset()
	rest := w.r.redact(&w.out, w.pending, false)
	w.pending = append(w.pending[:0], rest...)
	if w.out.Len() > 0 {
		if _, err := w.w.Write(w.out.Bytes()); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes the held-back bytes (masked). Call it when the stream ends; a
// secret split across a Flush is not recognised.
func (w *Writer) Flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	w.out.Reset()
	rest := w.r.redact(&w.out, w.pending, true)
	w.out.Write(rest)
	w.pending = w.pending[:0]
	_, err := w.w.Write(w.out.Bytes())
	return err
}

// Close flushes, then closes the underlying writer when it is an io.Closer.
func (w *Writer) Close() error {
	err := w.Flush()
	if c, ok := w.w.(io.Closer); ok {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// secretEnvNames are always secret; so is any name with a suffix below,
// except the publicEnvNames: REDIS_KEY names the queue's list (its value,
// "refinery:queue" by default, would otherwise be masked in every log line
// that names the queue).
var (
	secretEnvNames    = []string{"CONTROL_PLANE_TOKEN", "WORKER_TOKEN", "OBJECT_STORE_SECRET_KEY"}
	secretEnvSuffixes = []string{"_TOKEN", "_SECRET", "_PASSWORD", "_KEY"}
	publicEnvNames    = []string{"REDIS_KEY"}
)

// IsSecretName reports whether an environment variable of this name holds a
// secret: CONTROL_PLANE_TOKEN, WORKER_TOKEN, OBJECT_STORE_SECRET_KEY, or a
// name ending in _TOKEN, _SECRET, _PASSWORD or _KEY (case-insensitive), but
// not REDIS_KEY (a list name).
func IsSecretName(name string) bool {
	up := strings.ToUpper(name)
	if slices.Contains(secretEnvNames, up) {
		return true
	}
	if slices.Contains(publicEnvNames, up) {
		return false
	}
	for _, s := range secretEnvSuffixes {
		if strings.HasSuffix(up, s) {
			return true
		}
	}
	return false
}

// SecretsFromEnv returns the values of the secret variables (IsSecretName) in
// environ, given as "NAME=value" strings (os.Environ(), or the environment
// passed into builds). Values shorter than MinSecretLen are left out.
func SecretsFromEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, val, ok := strings.Cut(kv, "=")
		if ok && IsSecretName(name) && len(val) >= MinSecretLen {
			out = append(out, val)
		}
	}
	return out
}

// URLPasswords returns the passwords in the userinfo of urls (an index or
// Redis URL with credentials); unparsable URLs and URLs without a password
// give nothing.
func URLPasswords(urls ...string) []string {
	var out []string
	for _, u := range urls {
		if pu, err := url.Parse(u); err == nil && pu.User != nil {
			if pw, ok := pu.User.Password(); ok && pw != "" {
				out = append(out, pw)
			}
		}
	}
	return out
}
