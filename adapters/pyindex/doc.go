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
// dynamic, or else is reported as unknown. A Requires-Python found only in
// the metadata (not on the page) makes the release unusable
// (resolve.ErrUnusable), so the resolver tries another. Announced sha256,
// sha384 and sha512 hashes are checked on PEP 658 files and whole
// downloads (ErrHashMismatch); range reads cannot be checked.
//
// Credentials come from the index URL's user info or from Config.Username
// and Config.Password and are sent to the index's own host only. Responses
// are cached under Config.CacheDir with their ETag and Last-Modified
// validators and revalidated with conditional requests.
//
// [Client] implements resolve.Index. It memoises project pages and
// metadata for its lifetime and shares look-ups in flight, so one Client
// per planning run (or per request) is the intended use.
//
// Package pyindextest serves generated wheels and sdists as a test index.
package pyindex
