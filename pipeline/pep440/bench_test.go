package pep440

import "testing"

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("1!2.10.3rc4.post5.dev6+ubuntu.1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompare(b *testing.B) {
	x, y := MustParse("2.10.3rc4.post5"), MustParse("2.10.3rc4.post5.dev1")
	for b.Loop() {
		Compare(x, y)
	}
}

func BenchmarkParsePlain(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("2.10.3"); err != nil {
			b.Fatal(err)
		}
	}
}
