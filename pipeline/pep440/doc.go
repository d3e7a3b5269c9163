// Package pep440 parses, normalises and orders Python package versions and
// evaluates version specifiers as PEP 440 defines them.
//
// [Parse] accepts every spelling the PEP allows (case, a leading "v",
// alternative separators, spelled-out pre-release words, implicit numbers,
// "1.0-1" as an implicit post release) and [Version.String] gives the
// canonical normalised form. [Compare] orders versions including epochs,
// pre-, post- and dev-releases and local versions.
//
// [ParseSpecifiers] reads a comma-separated specifier set ("==", "!=", "<=",
// ">=", "<", ">", "~=", "===", with "==1.2.*" and "!=1.2.*" wildcards);
// [Specifiers.Contains] matches one version and [Specifiers.Filter] applies
// the PEP's pre-release rule to a list of candidates: pre-releases are
// excluded unless they are asked for, a specifier names one, or nothing else
// fits.
//
// Numeric components are limited to 64 bits; larger ones are a parse error.
package pep440
