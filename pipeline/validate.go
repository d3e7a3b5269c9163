package pipeline

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/charset"
	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// MaxNameLen bounds package names; longer names are rejected.
const MaxNameLen = pep508.MaxNameLength

var (
	// recipe values: package names, versions and simple specifiers. No
	// whitespace, quotes or shell metacharacters.
	recipeValueRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+:@=<>!~-]{0,127}$`)
	envKeyRE      = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)
	envValueRE    = regexp.MustCompile(`^[A-Za-z0-9._+:@=/%-]{0,256}$`)
)

// NormalizeName is PEP 503 normalisation (pep508.NormalizeName).
func NormalizeName(s string) string { return pep508.NormalizeName(s) }

// ValidName reports whether s is a PEP 508 project name of at most MaxNameLen
// ASCII characters.
func ValidName(s string) bool { return pep508.ValidName(s) }

// ValidTag reports whether s is a wheel tag: [A-Za-z0-9._-]{1,128}.
func ValidTag(s string) bool { return charset.All(s, 1, 128, charset.Alnum("._-")) }

// ValidPythonVersion reports whether s is MAJOR.MINOR: 1-2 digits, a dot,
// 1-3 digits.
func ValidPythonVersion(s string) bool {
	major, minor, ok := strings.Cut(s, ".")
	return ok && charset.All(major, 1, 2, charset.Digits("")) && charset.All(minor, 1, 3, charset.Digits(""))
}

// NormalizeVersion validates a PEP 440 version and returns its canonical form.
func NormalizeVersion(s string) (string, error) {
	v, err := pep440.Parse(s)
	if err != nil {
		return "", err
	}
	return v.String(), nil
}

// recipe managers and the environment keys a recipe may not set (they would
// change how every program in the container loads or runs).
var (
	recipeManagers = map[string]bool{"dnf": true, "apt": true, "pip": true, "env": true}
	forbiddenEnv   = map[string]bool{"PATH": true, "HOME": true, "PYTHONPATH": true, "PYTHONHOME": true,
		"PYTHONSTARTUP": true, "BASH_ENV": true, "ENV": true, "IFS": true, "SHELL": true}
)

// ValidateRecipe checks one recipe "manager:value" (dnf, apt, pip, or
// env:KEY=VALUE) against a charset that no shell would interpret.
func ValidateRecipe(r string) error {
	q := truncate(r) // a reason never quotes an unbounded value
	mgr, val, ok := strings.Cut(r, ":")
	if !ok {
		return fmt.Errorf("%q is not manager:value", q)
	}
	if !recipeManagers[mgr] {
		return fmt.Errorf("%q: unknown manager %q (dnf, apt, pip, env)", q, truncate(mgr))
	}
	if mgr == "env" {
		key, value, ok := strings.Cut(val, "=")
		switch {
		case !ok || !envKeyRE.MatchString(key):
			return fmt.Errorf("%q: env recipe must be env:KEY=VALUE with KEY in [A-Z_][A-Z0-9_]*", q)
		case forbiddenEnv[key] || strings.HasPrefix(key, "LD_") || strings.HasPrefix(key, "DYLD_"):
			return fmt.Errorf("%q: setting %s is not allowed", q, truncate(key))
		case !envValueRE.MatchString(value):
			return fmt.Errorf("%q: value has characters outside [A-Za-z0-9._+:@=/%%-] (no commas: RECIPES is comma-separated)", q)
		}
		return nil
	}
	if !recipeValueRE.MatchString(val) {
		return fmt.Errorf("%q: value has characters outside [A-Za-z0-9._+:@=<>!~-] (no commas: RECIPES is comma-separated) or is too long", q)
	}
	return nil
}

// ValidateItem checks and normalises a decoded queue item into a Request.
// The error is a *FieldError naming the first bad field.
func ValidateItem(it Item) (*Request, error) {
	if it.Package == "" {
		return nil, &FieldError{Field: "package", Reason: "empty"}
	}
	if !ValidName(it.Package) {
		return nil, &FieldError{Field: "package", Reason: fmt.Sprintf("%q is not a valid package name (PEP 508, ASCII, at most %d characters)", truncate(it.Package), MaxNameLen)}
	}
	req := &Request{Item: it, Name: NormalizeName(it.Package)}
	if it.Version != "" {
		v, err := NormalizeVersion(it.Version)
		if err != nil {
			return nil, &FieldError{Field: "version", Reason: fmt.Sprintf("%q is not a PEP 440 version", truncate(it.Version))}
		}
		req.Version = v
	}
	if it.PythonVersion != "" && !ValidPythonVersion(it.PythonVersion) {
		return nil, &FieldError{Field: "python_version", Reason: fmt.Sprintf("%q is not MAJOR.MINOR", truncate(it.PythonVersion))}
	}
	req.PythonVersion = it.PythonVersion
	for _, t := range []struct{ field, v string }{{"python_tag", it.PythonTag}, {"platform_tag", it.PlatformTag}} {
		if t.v != "" && !ValidTag(t.v) {
			return nil, &FieldError{Field: t.field, Reason: fmt.Sprintf("%q is not a tag ([A-Za-z0-9._-]+)", truncate(t.v))}
		}
	}
	req.PythonTag, req.PlatformTag = it.PythonTag, it.PlatformTag
	if it.RunID != "" && !ValidTag(it.RunID) {
		return nil, &FieldError{Field: "run_id", Reason: fmt.Sprintf("%q is not an id ([A-Za-z0-9._-]+)", truncate(it.RunID))}
	}
	for i, r := range it.Recipes {
		if err := ValidateRecipe(r); err != nil {
			return nil, &FieldError{Field: fmt.Sprintf("recipes[%d]", i), Reason: err.Error()}
		}
	}
	req.Recipes = MergeRecipes(it.Recipes, nil)
	return req, nil
}

// MergeRecipes returns a followed by b, without duplicates, in order.
func MergeRecipes(a, b []string) []string {
	if len(a)+len(b) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]string, 0, len(a)+len(b))
	for _, list := range [][]string{a, b} {
		for _, r := range list {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// Key identifies a request for de-duplication: name, version, tags, recipes.
func (r *Request) Key() string {
	return strings.Join([]string{r.Name, r.Version, r.PythonTag, r.PlatformTag, strings.Join(r.Recipes, ",")}, "\x00")
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
