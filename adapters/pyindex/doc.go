// Package pyindex is a client for Python package indexes (the "simple"
// repository API).
//
// It asks for PEP 691 JSON and falls back to PEP 503 HTML when that is what
// the index serves; merges the primary and extra indexes; drops files whose
// requires-python excludes the target Python; reports releases whose files
// are all yanked (PEP 592) so that the resolver takes them only when pinned.
//
// Dependency metadata comes, in this order, from the PEP 658/714
// ".metadata" file next to a distribution, from the wheel's
// *.dist-info/METADATA read with HTTP range requests when the server
// supports them (else the whole wheel is downloaded), from an sdist's
// PKG-INFO when it is metadata 2.2 or later and does not mark Requires-Dist
// dynamic, or else is reported as unknown.
//
// Credentials come from the index URL's user info or from Config.Username
// and Config.Password and are sent to the index's own host only. Responses
// are cached under Config.CacheDir with their ETag and Last-Modified
// validators and revalidated with conditional requests.
//
// [Client] implements resolve.Index.
package pyindex
