// Package hints keeps the hint catalog (log pattern → package recipes) that
// the control-plane serves at GET /api/hints or HINTS_FILE holds, and
// matches a failed build's log against it.
package hints

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Hint is one catalog entry, in the shape GET /api/hints and HINTS_FILE
// share.
type Hint struct {
	ID      string `json:"id" yaml:"id"`
	Pattern string `json:"pattern" yaml:"pattern"`
	// Recipes are the packages to install per package manager
	// ("apt": ["zlib1g-dev"], "dnf": ["zlib-devel"]).
	Recipes    map[string][]string `json:"recipes,omitempty" yaml:"recipes,omitempty"`
	AppliesTo  AppliesTo           `json:"applies_to" yaml:"applies_to"`
	Confidence float64             `json:"confidence" yaml:"confidence"`
}

// AppliesTo narrows a hint to some jobs; an empty list matches any job.
type AppliesTo struct {
	Packages        []string `json:"packages,omitempty" yaml:"packages,omitempty"`
	PackagePatterns []string `json:"package_patterns,omitempty" yaml:"package_patterns,omitempty"`
	Arch            []string `json:"arch,omitempty" yaml:"arch,omitempty"`
	PythonVersions  []string `json:"python_versions,omitempty" yaml:"python_versions,omitempty"`
	PythonTags      []string `json:"python_tags,omitempty" yaml:"python_tags,omitempty"`
	PlatformTags    []string `json:"platform_tags,omitempty" yaml:"platform_tags,omitempty"`
	BuildBackends   []string `json:"build_backends,omitempty" yaml:"build_backends,omitempty"`
}

// Page is one answer of GET /api/hints?limit=&offset=&q=.
type Page struct {
	Items  []Hint `json:"items"`
	Total  int    `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}

// ParseFile reads a HINTS_FILE: JSON (an array of hints, or a Page-like
// object with "items") or YAML (the same, as YAML). name is for errors.
func ParseFile(name string, data []byte) ([]Hint, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, nil
	}
	var (
		list []Hint
		page Page
	)
	if trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &list); err != nil {
			return nil, fmt.Errorf("hints file %s: %w", name, err)
		}
		return list, nil
	}
	if trimmed[0] == '{' {
		if err := json.Unmarshal(trimmed, &page); err != nil {
			return nil, fmt.Errorf("hints file %s: %w", name, err)
		}
		return page.Items, nil
	}
	// YAML: a list of hints, or a mapping with "items".
	var node yaml.Node
	if err := yaml.Unmarshal(trimmed, &node); err != nil {
		return nil, fmt.Errorf("hints file %s: %w", name, err)
	}
	if len(node.Content) == 1 && node.Content[0].Kind == yaml.SequenceNode {
		if err := node.Decode(&list); err != nil {
			return nil, fmt.Errorf("hints file %s: %w", name, err)
		}
		return list, nil
	}
	if err := node.Decode(&page); err != nil {
		return nil, fmt.Errorf("hints file %s: %w", name, err)
	}
	return page.Items, nil
}

// validate names the first problem of h, or "" when it is usable.
func (h Hint) validate(maxPattern int) string {
	switch {
	case strings.TrimSpace(h.ID) == "":
		return "id: empty"
	case h.Pattern == "":
		return "pattern: empty"
	case len(h.Pattern) > maxPattern:
		return fmt.Sprintf("pattern: %d bytes, more than %d", len(h.Pattern), maxPattern)
	case h.Confidence < 0 || h.Confidence > 1:
		return fmt.Sprintf("confidence: %v outside 0..1", h.Confidence)
	}
	return ""
}
