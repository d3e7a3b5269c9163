package config

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/refinery/refinery-worker/pipeline"
	"github.com/refinery/refinery-worker/pipeline/pep440"
)

// Interval is a duration given as a Go duration ("90s", "5m") or as plain
// seconds ("90"). Empty and "0" mean zero (off).
type Interval time.Duration

// D returns the interval as a time.Duration.
func (i Interval) D() time.Duration { return time.Duration(i) }

// String prints the interval as a Go duration.
func (i Interval) String() string { return time.Duration(i).String() }

// ParseInterval parses a Go duration or plain (possibly fractional) seconds.
func ParseInterval(s string) (Interval, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return Interval(time.Duration(f * float64(time.Second))), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is neither a Go duration (90s, 5m) nor seconds", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return Interval(d), nil
}

// ByteSize is a size in bytes, given plain or with a unit (k, M, G, T with
// an optional B or iB; decimal for kB/MB/GB, binary for KiB/MiB/GiB).
type ByteSize int64

// ParseByteSize parses "1073741824", "1GiB", "500MB", "2G".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = s[:i], strings.TrimSpace(s[i:])
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a size (bytes, or 500MB, 1GiB)", s)
	}
	mult := map[string]float64{"": 1, "B": 1, "k": 1e3, "kB": 1e3, "K": 1 << 10, "KiB": 1 << 10, "M": 1 << 20, "MB": 1e6, "MiB": 1 << 20,
		"G": 1 << 30, "GB": 1e9, "GiB": 1 << 30, "T": 1 << 40, "TB": 1e12, "TiB": 1 << 40}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q has an unknown unit %q", s, unit)
	}
	return ByteSize(f * mult), nil
}

// URLList is a list of URLs separated by spaces or commas.
type URLList []string

// parseURLList splits a URL list at commas and white space.
func parseURLList(s string) (URLList, error) {
	return URLList(strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })), nil
}

// Overrides is PLAN_OVERRIDES_JSON: normalised package name → version.
type Overrides map[string]string

// parseOverrides reads PLAN_OVERRIDES_JSON, normalising each name and
// stripping a leading "==" from each version.
func parseOverrides(s string) (Overrides, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("must be a JSON object of name to version strings: %v", err)
	}
	out := make(Overrides, len(raw))
	for name, v := range raw {
		n := pipeline.NormalizeName(name)
		if !pipeline.ValidName(name) {
			return nil, fmt.Errorf("%q is not a valid package name", name)
		}
		if _, dup := out[n]; dup {
			return nil, fmt.Errorf("%s is named twice under different spellings: give each project once", n)
		}
		v = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), "=="))
		if _, err := pep440.Parse(v); err != nil {
			return nil, fmt.Errorf("version %q for %q is not a PEP 440 version", v, name)
		}
		out[n] = v
	}
	return out, nil
}
