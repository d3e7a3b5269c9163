package podman

// Auditor checks a wheel against a target platform tag on the host, and
// rewrites its platform tags when that is all it takes to fit.
type Auditor interface {
	// Check audits the wheel at path against target (a platform tag).
	Check(path, target string) (Verdict, error)
	// Retag rewrites the wheel at path with platformTags and returns the new
	// file's path.
	Retag(path string, platformTags []string) (string, error)
}

// Verdict is an audit's answer for one wheel and target.
type Verdict struct {
	// OK: the wheel fits the target (perhaps after RetagTo or NeedsRepair).
	OK bool
	// Reason and Error say why it does not fit (Reason is a pipeline reason).
	Reason, Error string
	// RetagTo are the platform tags to rewrite the wheel with; empty: keep.
	RetagTo []string
	// NeedsRepair are libraries the wheel links that must be grafted into
	// it (auditwheel repair) before it fits.
	NeedsRepair []string
	// Metadata is recorded under the manifest metadata key "audit".
	Metadata map[string]any
}

// MetaAudit is the result metadata key of the audit of the build's wheels
// (one map, or a list for several wheels).
const MetaAudit = "audit"
