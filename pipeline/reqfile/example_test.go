package reqfile_test

import (
	"fmt"

	"github.com/refinery/refinery-worker/pipeline/reqfile"
)

func ExampleParseBytes() {
	f, err := reqfile.ParseBytes("requirements.txt", []byte(`# pins for s390x
lxml==5.2.1
requests[socks]~=2.31 ; python_version >= "3.8"
six==1.16.0 \
    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254
--extra-index-url https://mirror.example/simple
`))
	if err != nil {
		panic(err)
	}
	for _, e := range f.Requirements {
		fmt.Println(e.Line, e.Requirement.Key(), e.Requirement.Specifiers, len(e.Hashes))
	}
	fmt.Println(f.ExtraIndexURLs)

	_, err = reqfile.ParseBytes("requirements.txt", []byte("numpy\n-e ./src\n"))
	fmt.Println(err)
	// Output:
	// 2 lxml ==5.2.1 0
	// 3 requests ~=2.31 0
	// 4 six ==1.16.0 1
	// [https://mirror.example/simple]
	// requirements.txt:2: unsupported requirement line: editable install "-e ./src"
}
