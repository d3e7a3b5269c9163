package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// plainEntry is ManifestEntry without its MarshalJSON: what encoding/json
// makes of the fields.
type plainEntry ManifestEntry

// The entry's encoding is byte for byte encoding/json's, over random
// entries whose metadata mixes every kind of value and awkward text.
func TestManifestEntryJSONIsEncodingJSONs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		e := randomEntry(rng)
		got, err := e.MarshalJSON()
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want, err := json.Marshal(plainEntry(e))
		if err != nil {
			t.Fatalf("case %d: reference: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
		// Inside another value encoding/json takes it as it is.
		if nested, _ := json.Marshal([]ManifestEntry{e}); !bytes.Equal(nested, append(append([]byte("["), want...), ']')) {
			t.Fatalf("case %d: nested %s", i, nested)
		}
	}
}

// A value encoding/json refuses is refused, naming why.
func TestManifestEntryJSONRefusesWhatJSONRefuses(t *testing.T) {
	for _, v := range []any{make(chan int), func() {}, []any{map[string]any{"x": make(chan int)}}} {
		e := ManifestEntry{Name: "a", Metadata: map[string]any{"bad": v}}
		if _, err := e.MarshalJSON(); err == nil {
			t.Errorf("%T encoded", v)
		}
	}
}

var awkward = []string{"", "plain", `quote " and \ backslash`, "<html> & co", "tab\tnew\nline\r", "\x00\x01\x1f\x7f",
	"ünïcødé", "line\u2028sep\u2029", "bad \xff\xfe utf-8", "emoji 🐍", "a/b:c-d_e.f+g=h", "1.0", "é\u00a0"}

type namedString string

func randomString(rng *rand.Rand) string {
	if rng.IntN(3) == 0 {
		return fmt.Sprintf("pkg%d-%d.%d", rng.IntN(1000), rng.IntN(10), rng.IntN(10))
	}
	return awkward[rng.IntN(len(awkward))]
}

func randomValue(rng *rand.Rand, depth int) any {
	n := 14
	if depth > 2 {
		n = 9 // no more nesting
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1:
		return randomString(rng)
	case 2:
		return rng.IntN(3) == 0
	case 3:
		return rng.IntN(1<<20) - 1<<19
	case 4:
		return rng.Int64() - 1<<62
	case 5:
		return []float64{0, 1.5, 1e21, 1e-7, -0.25, 123456789}[rng.IntN(6)]
	case 6:
		return namedString(randomString(rng))
	case 7:
		return time.Date(2026, 12, 6, 21, 0, rng.IntN(60), rng.IntN(1e9), time.UTC)
	case 8:
		return json.RawMessage(`{"b": [1, 2], "a": "x"}`)
	case 9:
		if rng.IntN(4) == 0 {
			return []string(nil)
		}
		s := make([]string, rng.IntN(4))
		for i := range s {
			s[i] = randomString(rng)
		}
		return s
	case 10:
		if rng.IntN(4) == 0 {
			return []any(nil)
		}
		s := make([]any, rng.IntN(4))
		for i := range s {
			s[i] = randomValue(rng, depth+1)
		}
		return s
	case 11:
		if rng.IntN(4) == 0 {
			return map[string]any(nil)
		}
		return randomMap(rng, depth+1)
	case 12:
		return map[string]string{"z": randomString(rng), "a": randomString(rng)}
	default:
		return Failure{Summary: randomString(rng), Class: ClassNetwork}
	}
}

func randomMap(rng *rand.Rand, depth int) map[string]any {
	m := map[string]any{}
	for range rng.IntN(8) {
		m[randomString(rng)] = randomValue(rng, depth)
	}
	return m
}

func randomEntry(rng *rand.Rand) ManifestEntry {
	e := ManifestEntry{Name: randomString(rng), Version: randomString(rng), Status: Status(randomString(rng))}
	if rng.IntN(2) == 0 {
		e.PythonTag, e.PlatformTag = randomString(rng), randomString(rng)
	}
	if rng.IntN(3) == 0 {
		e.Wheel = randomString(rng)
	}
	switch rng.IntN(4) {
	case 0:
	case 1:
		e.Metadata = map[string]any{}
	default:
		e.Metadata = randomMap(rng, 0)
	}
	return e
}

func BenchmarkManifestEntryJSON(b *testing.B) {
	e := ManifestEntry{Name: "pkg123", Version: "1.0", Status: StatusFailed, PythonTag: "cp311", PlatformTag: "manylinux2014_x86_64",
		Metadata: map[string]any{MetaRunner: "podman", "container": "refinery-w1-0123456789abcdef-a1", "image": "localhost/refinery-builder-debian:latest",
			MetaExitCode: 0, MetaAttempt: 1, MetaDurationMS: int64(12), MetaClaim: "0fddd120fce954ca9851a2b3", MetaCorrelationID: "3b9d1f0e-8a8c-4c1e-9f7a-1d2c3b4a5e6f",
			MetaRecordedAt: "2026-12-06T21:00:00.123456789Z", MetaRunID: "bench", MetaError: "exit code 0 but no wheel for pkg123 1.0 in the output dir",
			MetaReason: "no_wheel", MetaLog: "logs/pkg123-1.0-0123456789abcdef-a1.log", "worker_id": "w1",
			MetaFailure: map[string]any{"class": "unknown", "summary": "[unknown] exit code 0 but no wheel for pkg123 1.0 in the output dir"}}}
	b.Run("MarshalJSON", func(b *testing.B) {
		for b.Loop() {
			if _, err := e.MarshalJSON(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		for b.Loop() {
			if _, err := json.Marshal(plainEntry(e)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
