// Package pep508 reads Python dependency specifications as PEP 508 defines
// them: project names ([ValidName], [NormalizeName] per PEP 503),
// requirement strings ([ParseRequirement]: name, extras, version specifiers
// or a URL, environment marker) and environment markers ([ParseMarker],
// [Marker.Evaluate]) evaluated against an [Env], typically the build target
// from [TargetEnv].
package pep508
