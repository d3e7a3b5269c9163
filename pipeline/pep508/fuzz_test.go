package pep508

import "testing"

// FuzzParseRequirement checks that parsing and evaluating never panic and
// that the normalised form of an accepted requirement parses to itself.
func FuzzParseRequirement(f *testing.F) {
	for _, s := range []string{
		"requests[socks]~=2.31 ; python_version >= \"3.8\"",
		"name [fred,bar] (>=1.0,<2) ; os_name=='a' or (extra == 'x' and platform_machine not in 'arm')",
		"pip @ https://example.org/pip.zip ; sys_platform == 'linux'",
		"zope.interface", "x===foo", "a;b", "a[", "a @", "a; (",
	} {
		f.Add(s)
	}
	env := TargetEnv("3.11", "manylinux2014_s390x")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRequirement(s)
		if err != nil {
			return
		}
		canon := r.String()
		again, err := ParseRequirement(canon)
		if err != nil {
			t.Fatalf("normalised %q of %q does not parse: %v", canon, s, err)
		}
		if again.String() != canon {
			t.Fatalf("normalised %q of %q re-normalises to %q", canon, s, again.String())
		}
		_, _ = r.Marker.Evaluate(env)
	})
}
