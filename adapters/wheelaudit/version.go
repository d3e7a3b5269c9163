package wheelaudit

import (
	"strconv"
	"strings"
)

// Symbol version families the audit tracks (a needed version "GLIBCXX_3.4.21"
// is family GLIBCXX, version 3.4.21).
var families = []string{"GLIBC", "GLIBCXX", "CXXABI", "GCC"}

func trackedFamily(f string) bool {
	for _, x := range families {
		if x == f {
			return true
		}
	}
	return false
}

// splitVersion splits a needed version name into family and version:
// "GLIBC_2.34" -> ("GLIBC", "2.34", true). A tagged version such as
// "GLIBCXX_LDBL_3.4" or "CXXABI_TM_1" yields its numeric tail ("3.4", "1").
// A name without a numeric tail ("GLIBC_ABI_DT_RELR", "CXXABI_FLOAT128",
// "GLIBC_PRIVATE") returns numeric=false.
func splitVersion(name string) (family, version string, numeric bool) {
	family, rest, ok := strings.Cut(name, "_")
	if !ok {
		return name, "", false
	}
	tail := rest
	if i := strings.LastIndexByte(rest, '_'); i >= 0 {
		tail = rest[i+1:]
	}
	if parseVersion(tail) == nil {
		return family, rest, false
	}
	return family, tail, true
}

// parseVersion parses "2.3.4" into [2 3 4]; nil when it is not dotted
// decimal numbers.
func parseVersion(s string) []int {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ".")
	if len(parts) > 8 {
		return nil
	}
	out := make([]int, len(parts))
	for i, p := range parts {
		if p == "" || len(p) > 9 {
			return nil
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || p[0] == '+' {
			return nil
		}
		out[i] = n
	}
	return out
}

// compareVersions compares dotted versions numerically; missing parts are
// zero ("2.2" == "2.2.0"). Unparsable versions compare as lowest.
func compareVersions(a, b string) int {
	x, y := parseVersion(a), parseVersion(b)
	for i := 0; i < len(x) || i < len(y); i++ {
		var p, q int
		if i < len(x) {
			p = x[i]
		}
		if i < len(y) {
			q = y[i]
		}
		switch {
		case p < q:
			return -1
		case p > q:
			return 1
		}
	}
	return 0
}
