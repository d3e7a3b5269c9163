package reqfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// Entry is one requirement line.
type Entry struct {
	Requirement pep508.Requirement
	// Hashes are the "--hash" values, e.g. "sha256:8abb...".
	Hashes []string
	// File and Line say where the entry was written (Line is the first
	// physical line of a continued line).
	File string
	Line int
}

// File is the content of a requirements file and its includes.
type File struct {
	// Requirements come from the file and its "-r" includes, in order.
	Requirements []Entry
	// Constraints come from "-c" includes: they bound versions but do not
	// ask for a package.
	Constraints []Entry
	// IndexURL is the last "--index-url" seen, or "".
	IndexURL string
	// ExtraIndexURLs are the "--extra-index-url" values, de-duplicated.
	ExtraIndexURLs []string
	// Pre is set by a "--pre" line.
	Pre bool
	// Ignored lists options that do not change a plan and are skipped
	// ("FILE:LINE: --prefer-binary"), for the caller to warn about.
	Ignored []string
}

// LineError is a problem on one line of one file.
type LineError struct {
	File string
	Line int
	Err  error
}

// maxErrorText bounds the part of a line an error quotes.
const maxErrorText = 256

// Error quotes at most maxErrorText bytes of the underlying message, so a
// huge line does not make a huge error.
func (e *LineError) Error() string {
	msg := e.Err.Error()
	if len(msg) > maxErrorText {
		cut := maxErrorText
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = fmt.Sprintf("%s… (%d bytes in all)", msg[:cut], len(msg))
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, msg)
}
func (e *LineError) Unwrap() error { return e.Err }

// ErrUnsupported is wrapped for lines the worker does not handle: editable
// installs, URLs, paths, VCS references and unknown options.
var ErrUnsupported = errors.New("unsupported requirement line")

// ParseFile reads the requirements file at path and its includes from the
// operating system's file system.
func ParseFile(path string) (*File, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("requirements file %s: %w", path, err)
	}
	root := filepath.VolumeName(abs) + string(filepath.Separator)
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, fmt.Errorf("requirements file %s: %w", path, err)
	}
	p := &parser{fsys: os.DirFS(root), display: func(name string) string { return root + filepath.FromSlash(name) }}
	return p.run(filepath.ToSlash(rel))
}

// Parse reads the file name from fsys; includes are resolved within fsys.
func Parse(fsys fs.FS, name string) (*File, error) {
	p := &parser{fsys: fsys, display: func(name string) string { return name }}
	return p.run(name)
}

// ParseBytes parses a requirements file held in memory (an upload, say);
// name appears in errors. Includes are errors since there is nothing to
// resolve them against.
func ParseBytes(name string, data []byte) (*File, error) {
	p := &parser{display: func(name string) string { return name }}
	out := &File{}
	if err := p.parseContent(out, name, data, false); err != nil {
		return nil, err
	}
	return out, nil
}

type parser struct {
	fsys    fs.FS // nil: includes are refused
	display func(name string) string
	seen    map[string]bool
}

func (p *parser) run(name string) (*File, error) {
	out := &File{}
	if err := p.parseFile(out, name, false); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *parser) parseFile(out *File, name string, constraint bool) error {
	key := fmt.Sprintf("%t:%s", constraint, name)
	if p.seen[key] {
		return nil // already read: includes form a cycle or a diamond
	}
	if p.seen == nil {
		p.seen = map[string]bool{}
	}
	p.seen[key] = true
	data, err := fs.ReadFile(p.fsys, name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			// The file system's path is relative to its root: name the
			// file as the user knows it.
			err = pe.Err
		}
		return fmt.Errorf("read requirements file %s: %w", p.display(name), err)
	}
	return p.parseContent(out, name, data, constraint)
}

func (p *parser) parseContent(out *File, name string, data []byte, constraint bool) error {
	for _, ll := range logicalLines(string(data)) {
		ll.text = expandEnv(ll.text)
		if err := p.parseLine(out, name, ll, constraint); err != nil {
			var le *LineError
			if errors.As(err, &le) {
				return err
			}
			return &LineError{File: p.display(name), Line: ll.number, Err: err}
		}
	}
	return nil
}

func (p *parser) parseLine(out *File, name string, ll logicalLine, constraint bool) error {
	text := ll.text
	if strings.HasPrefix(text, "-") {
		return p.parseOption(out, name, text, constraint)
	}
	args, opts := splitOptions(text)
	if isURLOrPath(args) {
		return fmt.Errorf("%w: URL, path or VCS requirement %q", ErrUnsupported, args)
	}
	req, err := pep508.ParseRequirement(args)
	if err != nil {
		return err
	}
	if req.IsURL() {
		return fmt.Errorf("%w: URL requirement %q", ErrUnsupported, args)
	}
	e := Entry{Requirement: req, File: p.display(name), Line: ll.number}
	if e.Hashes, err = parseHashes(opts); err != nil {
		return err
	}
	if constraint {
		out.Constraints = append(out.Constraints, e)
	} else {
		out.Requirements = append(out.Requirements, e)
	}
	return nil
}

func (p *parser) parseOption(out *File, name, text string, constraint bool) error {
	opt, val := optionValue(text)
	switch opt {
	case "-r", "--requirement", "-c", "--constraint":
		if val == "" {
			return fmt.Errorf("%s needs a file name", opt)
		}
		if p.fsys == nil {
			return fmt.Errorf("%w: %s %s: includes need a file on disk", ErrUnsupported, opt, val)
		}
		if strings.Contains(val, "://") {
			return fmt.Errorf("%w: %s from a URL", ErrUnsupported, opt)
		}
		target := val
		if !path.IsAbs(filepath.ToSlash(val)) {
			target = path.Join(path.Dir(name), filepath.ToSlash(val))
		} else {
			target = strings.TrimPrefix(path.Clean(filepath.ToSlash(val)), "/")
		}
		return p.parseFile(out, target, constraint || opt == "-c" || opt == "--constraint")
	case "-i", "--index-url":
		if val == "" {
			return fmt.Errorf("%s needs a URL", opt)
		}
		out.IndexURL = val
	case "--extra-index-url":
		if val == "" {
			return fmt.Errorf("%s needs a URL", opt)
		}
		for _, u := range out.ExtraIndexURLs {
			if u == val {
				return nil
			}
		}
		out.ExtraIndexURLs = append(out.ExtraIndexURLs, val)
	case "--pre":
		out.Pre = true
	case "--only-binary", "--prefer-binary", "--no-binary", "--trusted-host",
		"--use-feature", "--config-settings":
		// They shape how pip fetches or installs, not which versions a plan
		// holds: noted for a warning, not an abort.
		out.Ignored = append(out.Ignored, fmt.Sprintf("%s: %s", p.display(name), opt))
	case "-e", "--editable":
		return fmt.Errorf("%w: editable install %q", ErrUnsupported, text)
	default:
		return fmt.Errorf("%w: option %q", ErrUnsupported, opt)
	}
	return nil
}

// optionValue splits "-r file", "-rfile", "--requirement=file" and
// "--requirement file" into option and value.
func optionValue(text string) (opt, val string) {
	fields := strings.Fields(text)
	first := fields[0]
	rest := strings.TrimSpace(strings.Join(fields[1:], " "))
	if strings.HasPrefix(first, "--") {
		if o, v, ok := strings.Cut(first, "="); ok {
			return o, strings.TrimSpace(v + " " + rest)
		}
		return first, rest
	}
	if len(first) > 2 { // "-rfile"
		return first[:2], strings.TrimSpace(first[2:] + " " + rest)
	}
	return first, rest
}
