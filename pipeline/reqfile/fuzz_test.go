package reqfile

import "testing"

// FuzzParseBytes checks that no content makes the parser panic and that
// every accepted entry has a line number within the content.
func FuzzParseBytes(f *testing.F) {
	for _, s := range []string{
		"lxml==5.2.1\nsix==1.16.0 --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n",
		"a \\\n  >=1 # c\n--pre\n-i https://x/simple\n",
		"-e .\n", "x\\", "\\\n\\\n", "--hash", "a --hash",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ParseBytes("fuzz.txt", data)
		if err != nil {
			return
		}
		for _, e := range append(file.Requirements, file.Constraints...) {
			if e.Line < 1 || e.Line > len(data)+1 {
				t.Fatalf("entry %q at line %d of %d bytes", e.Requirement, e.Line, len(data))
			}
		}
	})
}
