package pyindex

import (
	"fmt"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// Kind is the type of a distribution file.
type Kind string

// Distribution kinds the client understands.
const (
	Wheel Kind = "wheel"
	Sdist Kind = "sdist"
)

var sdistSuffixes = []string{".tar.gz", ".zip", ".tar.bz2", ".tgz", ".tar.xz"}

// WheelTags are the compressed tag sets of a wheel file name, e.g. Python
// "py2.py3", ABI "none", platform "manylinux_2_17_x86_64.manylinux2014_x86_64".
type WheelTags struct {
	Python, ABI, Platform string
}

// parseFilename reads kind, version and (for wheels) tags from a file name
// of project key. ok is false for files of other kinds or projects.
func parseFilename(key, filename string) (kind Kind, v pep440.Version, tags WheelTags, ok bool) {
	if base, isWheel := strings.CutSuffix(filename, ".whl"); isWheel {
		parts := strings.Split(base, "-")
		if len(parts) != 5 && len(parts) != 6 {
			return "", v, tags, false
		}
		if pep508.NormalizeName(parts[0]) != key {
			return "", v, tags, false
		}
		ver, err := pep440.Parse(parts[1])
		if err != nil {
			return "", v, tags, false
		}
		n := len(parts)
		return Wheel, ver, WheelTags{Python: parts[n-3], ABI: parts[n-2], Platform: parts[n-1]}, true
	}
	for _, suf := range sdistSuffixes {
		base, found := strings.CutSuffix(strings.ToLower(filename), suf)
		if !found {
			continue
		}
		base = filename[:len(base)]
		// The name may itself contain "-": find the split whose left part
		// is the project.
		for i := strings.Index(base, "-"); i >= 0; {
			if pep508.NormalizeName(base[:i]) == key {
				if ver, err := pep440.Parse(base[i+1:]); err == nil {
					return Sdist, ver, tags, true
				}
			}
			j := strings.Index(base[i+1:], "-")
			if j < 0 {
				break
			}
			i += j + 1
		}
		return "", v, tags, false
	}
	return "", v, tags, false
}

// String renders the tags as they appear in a file name.
func (t WheelTags) String() string {
	return fmt.Sprintf("%s-%s-%s", t.Python, t.ABI, t.Platform)
}
