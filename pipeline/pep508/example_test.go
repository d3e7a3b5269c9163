package pep508_test

import (
	"fmt"

	"github.com/refinery/refinery-worker/pipeline/pep508"
)

func ExampleParseRequirement() {
	r, err := pep508.ParseRequirement(`Requests[SOCKS] ~= 2.31 ; python_version >= "3.8" and platform_machine == "s390x"`)
	if err != nil {
		panic(err)
	}
	ok, err := r.Marker.Evaluate(pep508.TargetEnv("3.11", "manylinux2014_s390x"))
	fmt.Println(r.Key(), r.Extras, r.Specifiers, ok, err)
	// Output: requests [socks] ~=2.31 true <nil>
}

func ExampleNormalizeName() {
	fmt.Println(pep508.NormalizeName("Zope.Interface"), pep508.ValidName("zope.interface"), pep508.ValidName("../etc"))
	// Output: zope-interface true false
}
