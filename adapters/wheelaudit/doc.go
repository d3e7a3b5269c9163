// Package wheelaudit checks that a built wheel fits a target platform tag
// and retags it when that is all it takes. It is pure Go (archive/zip,
// debug/elf), runs on the host and never executes the wheel.
//
// [Audit] reads a wheel like `auditwheel show`: the tags of the file name
// against WHEEL's Tag lines and, for every ELF file in it, the machine
// (e_machine), the highest symbol version needed from GLIBC, GLIBCXX,
// CXXABI and GCC (SHT_GNU_verneed), and the DT_NEEDED libraries, which must
// be bundled in the wheel (for example under pkg.libs/), be the dynamic
// loader, or be allowed by the manylinux policy. The result lists the
// manylinux platform tags the wheel satisfies, newest first.
//
// [Report.Fits] gives the verdict for a target such as manylinux2014_s390x
// (= manylinux_2_17_s390x), manylinux_2_36_s390x, linux_s390x or any:
//
//	machine x86-64, target s390x
//	needs GLIBC_2.34, manylinux2014 allows 2.17
//	links libxml2.so.2, not allowed by manylinux_2_36
//
// with Reason "platform_mismatch", or OK with the tags to write when the
// wheel is tagged linux_<arch> ([Verdict.RetagTo]: the oldest policy the
// wheel satisfies, as auditwheel repair picks it). When only unbundled
// libraries stand in the way, [Verdict.NeedsRepair] lists them and
// [Verdict.Repairable] is set: `auditwheel repair` would graft them. A pure
// wheel fits every target; a wheel tagged any that holds ELF files is
// judged by those files. [Retag] rewrites the file name, the WHEEL Tag
// lines and the RECORD row of WHEEL, writing a new file whole and renaming
// it. [Report.Metadata] is the audit as recorded in a manifest entry.
//
// [AuditAndRetag] does the three steps for one built wheel:
//
//	rep, v, path, err := wheelaudit.AuditAndRetag(wheelPath, "manylinux2014_s390x")
//	// err: unreadable or corrupt wheel; !v.OK: failed, reason v.Reason, error v.Error;
//	// else deliver path (retagged when needed), metadata "audit": rep.Metadata()
//
// The policies (glibc levels manylinux_2_5 to manylinux_2_36, the highest
// GLIBCXX/CXXABI/GCC version per level and architecture, the allowed
// libraries) are the embedded policy.json, which names its sources.
//
// A wheel is untrusted input: [Limits] bound the number of members and the
// uncompressed bytes read per member and per wheel (zip bombs), member names
// that escape the install directory or repeat are refused, and corrupt ELF
// files give errors, never panics. Stored ELF members are read in place;
// deflated ones are inflated into memory up to Limits.MaxMemoryBytes and
// spill to a temporary file beyond it.
//
// Not checked, unlike auditwheel: per-symbol blacklists, versions of other
// families (ZLIB, LIBATOMIC), the dependencies of libraries bundled in the
// wheel beyond their own DT_NEEDED (they are audited as ELF files of the
// wheel), RPATHs, musllinux targets, and signed RECORDs (RECORD.jws/p7s are
// copied unchanged and no longer match after Retag). Symbol versions are
// compared against the highest version per family, not against the exact
// list of each architecture.
package wheelaudit
