package pep440

import "cmp"

// Compare returns -1, 0 or +1 as a sorts before, equal to or after b in PEP
// 440 order. Trailing zeros of the release do not matter (1.0 == 1.0.0).
// Within one release: dev < pre (a < b < rc, each with its own dev releases)
// < final < post, and a local version sorts after the same public version.
func Compare(a, b Version) int {
	if c := cmp.Compare(a.epoch, b.epoch); c != 0 {
		return c
	}
	if c := compareRelease(a.release, b.release); c != 0 {
		return c
	}
	if c := cmp.Compare(a.preKey(), b.preKey()); c != 0 {
		return c
	}
	if c := comparePreN(a, b); c != 0 {
		return c
	}
	if c := compareOpt(a.post, b.post, -1); c != 0 {
		return c
	}
	if c := compareOpt(a.dev, b.dev, +1); c != 0 {
		return c
	}
	return compareLocal(a.local, b.local)
}

// Equal reports whether Compare(a, b) == 0.
func (v Version) Equal(o Version) bool { return Compare(v, o) == 0 }

// Less reports whether v sorts before o.
func (v Version) Less(o Version) bool { return Compare(v, o) < 0 }

func compareRelease(a, b []uint64) int {
	n := max(len(a), len(b))
	for i := range n {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// preKey ranks the pre-release phase: a dev release of a final release
// (1.0.dev0) sorts before every pre-release, and no pre-release sorts after
// all of them.
func (v Version) preKey() int {
	switch {
	case v.pre == nil && v.post == nil && v.dev != nil:
		return -1
	case v.pre == nil:
		return 3
	default:
		return v.pre.Kind.rank()
	}
}

func comparePreN(a, b Version) int {
	if a.pre == nil || b.pre == nil {
		return 0
	}
	return cmp.Compare(a.pre.N, b.pre.N)
}

// compareOpt compares optional numbers; absent counts as -inf (absentRank
// -1) or +inf (absentRank +1).
func compareOpt(a, b *uint64, absentRank int) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return absentRank
	case b == nil:
		return -absentRank
	default:
		return cmp.Compare(*a, *b)
	}
}

// compareLocal: no label < any label; segment by segment, alphanumeric <
// numeric, numbers numerically, strings lexically; a prefix sorts first.
func compareLocal(a, b []LocalSegment) int {
	if a == nil || b == nil {
		return cmp.Compare(len(a), len(b))
	}
	for i := range min(len(a), len(b)) {
		x, y := a[i], b[i]
		switch {
		case x.IsNum && y.IsNum:
			if c := cmp.Compare(x.Num, y.Num); c != 0 {
				return c
			}
		case x.IsNum:
			return 1
		case y.IsNum:
			return -1
		default:
			if c := cmp.Compare(x.Str, y.Str); c != 0 {
				return c
			}
		}
	}
	return cmp.Compare(len(a), len(b))
}
