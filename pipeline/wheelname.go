package pipeline

import "strings"

// WheelPlatformTag is the platform tag of a wheel file name (PEP 427:
// {name}-{version}(-{build})?-{python}-{abi}-{platform}.whl), e.g.
// "manylinux_2_17_s390x.manylinux2014_s390x"; "" when file is not a wheel
// name.
func WheelPlatformTag(file string) string {
	base, ok := strings.CutSuffix(file, ".whl")
	if !ok {
		return ""
	}
	parts := strings.Split(base, "-")
	if len(parts) != 5 && len(parts) != 6 {
		return ""
	}
	return parts[len(parts)-1]
}
