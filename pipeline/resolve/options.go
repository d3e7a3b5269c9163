package resolve

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// Strategy is UPGRADE_STRATEGY.
type Strategy string

// Strategies.
const (
	// Pinned keeps the versions that "==" pins and input wheels give and
	// takes the newest allowed version of everything else.
	Pinned Strategy = "pinned"
	// Eager takes the newest allowed version of every package, ignoring
	// input wheels' versions; "==" requirements still bind.
	Eager Strategy = "eager"
)

// ParseStrategy reads UPGRADE_STRATEGY ("" means pinned).
func ParseStrategy(s string) (Strategy, error) {
	switch Strategy(strings.ToLower(strings.TrimSpace(s))) {
	case "", Pinned:
		return Pinned, nil
	case Eager:
		return Eager, nil
	}
	return "", fmt.Errorf("upgrade strategy %q: want pinned or eager", s)
}

// DefaultMaxDeps is MAX_DEPS when unset.
const DefaultMaxDeps = 1000

// DefaultMaxAttempts bounds backtracking: how many candidate versions may
// be tried and abandoned before resolution gives up.
const DefaultMaxAttempts = 20000

// Options shape a resolution.
type Options struct {
	// Env is the target marker environment (pep508.TargetEnv).
	Env pep508.Env
	// Strategy defaults to Pinned.
	Strategy Strategy
	// MaxDeps bounds the number of packages (DefaultMaxDeps when 0).
	MaxDeps int
	// MaxAttempts bounds backtracking (DefaultMaxAttempts when 0).
	MaxAttempts int
	// Overrides pin packages by normalised name, over every requirement
	// (PLAN_OVERRIDES_JSON, see ParseOverrides).
	Overrides map[string]pep440.Version
	// Preferred are versions that input wheels give, by normalised name:
	// with Pinned they are tried first, with Eager ignored.
	Preferred map[string]pep440.Version
	// Constraints bound versions of packages that something requires but
	// do not require anything themselves.
	Constraints []pep508.Requirement
	// AllowPre admits pre-releases everywhere (pip's --pre).
	AllowPre bool
	// Prefetch is how many index look-ups may run ahead of the resolver
	// for queued packages (DefaultPrefetch when 0, none when negative).
	Prefetch int
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// ParseOverrides reads PLAN_OVERRIDES_JSON: an object from package name to
// version, a leading "==" allowed. Names are normalised; two spellings of
// one name are an error, whatever their versions.
func ParseOverrides(s string) (map[string]pep440.Version, error) {
	out := map[string]pep440.Version{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	var raw map[string]string
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("plan overrides: want a JSON object of name to version: %w", err)
	}
	for name, ver := range raw {
		if !pep508.ValidName(name) {
			return nil, fmt.Errorf("plan overrides: invalid package name %q", name)
		}
		v, err := pep440.Parse(strings.TrimPrefix(strings.TrimSpace(ver), "=="))
		if err != nil {
			return nil, fmt.Errorf("plan overrides: %s: %w", name, err)
		}
		key := pep508.NormalizeName(name)
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("plan overrides: %s is named twice under different spellings: give each project once", key)
		}
		out[key] = v
	}
	return out, nil
}
