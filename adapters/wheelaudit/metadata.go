package wheelaudit

// Metadata is the audit for a manifest entry's metadata "audit": arch,
// glibc level, symbol versions, needed and external libraries, satisfied
// tags, and the problems of the last Fits. Lists are never nil, so they
// encode as [] in JSON.
func (r *Report) Metadata() map[string]any {
	versions := make(map[string]string, len(r.SymbolVersions))
	for k, v := range r.SymbolVersions {
		versions[k] = v
	}
	return map[string]any{
		"pure":            r.Pure,
		"arch":            r.Arch,
		"glibc_level":     r.GlibcLevel,
		"symbol_versions": versions,
		"needed":          nonNil(r.Needed),
		"external":        nonNil(r.External),
		"satisfied_tags":  nonNil(r.SatisfiedTags),
		"problems":        nonNil(r.Problems),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return append([]string(nil), s...)
}
