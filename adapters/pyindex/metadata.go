package pyindex

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/pep440"
	"github.com/refinery/refinery-worker/pipeline/pep508"
)

// Source says where a release's dependency metadata came from.
type Source string

// Metadata sources, best first.
const (
	SourcePEP658  Source = "pep658"  // the index's .metadata file
	SourceWheel   Source = "wheel"   // the wheel's METADATA, by range request or download
	SourceSdist   Source = "sdist"   // PKG-INFO of an sdist with static Requires-Dist
	SourceUnknown Source = "unknown" // nothing declared the dependencies
)

// Metadata is the core metadata of one release as far as resolution needs it.
type Metadata struct {
	Name           string
	Version        string
	RequiresPython string
	RequiresDist   []pep508.Requirement
	ProvidesExtra  []string
	// Known is false when the dependencies could not be determined.
	Known  bool
	Source Source
}

// parseCoreMetadata reads METADATA / PKG-INFO headers (RFC 822 style,
// folded lines allowed) up to the first blank line.
func parseCoreMetadata(data []byte) (map[string][]string, error) {
	headers := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	var last string
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				vals := headers[last]
				vals[len(vals)-1] += "\n" + strings.TrimSpace(line)
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("metadata line %q: no colon", line)
		}
		last = strings.ToLower(strings.TrimSpace(k))
		headers[last] = append(headers[last], strings.TrimSpace(v))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	if len(headers["name"]) == 0 {
		return nil, fmt.Errorf("metadata has no Name")
	}
	return headers, nil
}

// metadataFrom builds Metadata from parsed headers. For sdists the
// dependencies are known only for metadata 2.2+ without Dynamic:
// Requires-Dist.
func metadataFrom(headers map[string][]string, src Source) (*Metadata, error) {
	m := &Metadata{Source: src, Known: true}
	m.Name = first(headers["name"])
	m.Version = first(headers["version"])
	m.RequiresPython = first(headers["requires-python"])
	m.ProvidesExtra = headers["provides-extra"]
	if src == SourceSdist {
		mv, err := pep440.Parse(first(headers["metadata-version"]))
		if err != nil || pep440.Compare(mv, pep440.MustParse("2.2")) < 0 {
			return &Metadata{Name: m.Name, Version: m.Version, Source: SourceUnknown}, nil
		}
		for _, d := range headers["dynamic"] {
			if strings.EqualFold(strings.TrimSpace(d), "requires-dist") {
				return &Metadata{Name: m.Name, Version: m.Version, Source: SourceUnknown}, nil
			}
		}
	}
	for _, raw := range headers["requires-dist"] {
		r, err := pep508.ParseRequirement(raw)
		if err != nil {
			return nil, fmt.Errorf("metadata of %s %s: Requires-Dist: %w", m.Name, m.Version, err)
		}
		m.RequiresDist = append(m.RequiresDist, r)
	}
	return m, nil
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
