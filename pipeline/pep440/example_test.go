package pep440_test

import (
	"fmt"
	"slices"

	"github.com/refinery/refinery-worker/pipeline/pep440"
)

func ExampleParse() {
	v, err := pep440.Parse("V1.0-Alpha.1_post-2.DEV")
	if err != nil {
		panic(err)
	}
	fmt.Println(v, v.IsPrerelease())
	// Output: 1.0a1.post2.dev0 true
}

func ExampleCompare() {
	vs := []pep440.Version{
		pep440.MustParse("1.0"), pep440.MustParse("1.0.post1"), pep440.MustParse("1.0rc1"),
		pep440.MustParse("1.0.dev0"), pep440.MustParse("1!0.5"), pep440.MustParse("1.0+local"),
	}
	slices.SortFunc(vs, pep440.Compare)
	fmt.Println(vs)
	// Output: [1.0.dev0 1.0rc1 1.0 1.0+local 1.0.post1 1!0.5]
}

func ExampleSpecifiers_Filter() {
	spec, err := pep440.ParseSpecifiers(">=1.0, !=1.3.*, <2")
	if err != nil {
		panic(err)
	}
	var candidates []pep440.Version
	for _, s := range []string{"0.9", "1.0", "1.3.1", "1.4", "2.0b1", "1.5rc1"} {
		candidates = append(candidates, pep440.MustParse(s))
	}
	fmt.Println(spec.Filter(candidates, false))
	// Only a pre-release fits: it is taken.
	pre, _ := pep440.ParseSpecifiers(">=1.5")
	fmt.Println(pre.Filter(candidates, false))
	// Output:
	// [1.0 1.4]
	// [2.0b1]
}
