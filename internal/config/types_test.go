package config

import (
	"testing"
	"time"
)

func TestParseInterval(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, true}, {"0", 0, true}, {"90", 90 * time.Second, true}, {"1.5", 1500 * time.Millisecond, true},
		{"90s", 90 * time.Second, true}, {"5m", 5 * time.Minute, true}, {" 2h ", 2 * time.Hour, true},
		{"-5", 0, false}, {"-1s", 0, false}, {"soon", 0, false}, {"5 minutes", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseInterval(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got.D() != tc.want) {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v ok=%v", tc.in, got.D(), err, tc.want, tc.ok)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	cases := []struct {
		in   string
		want ByteSize
		ok   bool
	}{
		{"1073741824", 1 << 30, true}, {"0", 0, true}, {"1GiB", 1 << 30, true}, {"500MB", 500e6, true},
		{"2G", 2 << 30, true}, {" 64 MiB ", 64 << 20, true}, {"1.5k", 1500, true}, {"1KiB", 1 << 10, true},
		{"", 0, false}, {"lots", 0, false}, {"-1", 0, false}, {"5XB", 0, false}, {"1gb", 0, false},
	}
	for _, tc := range cases {
		got, err := ParseByteSize(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseOverrides(t *testing.T) {
	cases := []struct {
		in   string
		want Overrides
		ok   bool
	}{
		{"", nil, true},
		{"  ", nil, true},
		{`{"NumPy": "1.26.4", "zope_interface": "==6.4"}`, Overrides{"numpy": "1.26.4", "zope-interface": "6.4"}, true},
		{`{bad`, nil, false},
		{`["numpy"]`, nil, false},
		{`{"not a name!": "1.0"}`, nil, false},
		{`{"numpy": "one"}`, nil, false},
		{`{"ov-pkg":"1.0","Ov.Pkg":"2.0"}`, nil, false},
		{`{"ov-pkg":"1.0","OV_PKG":"1.0"}`, nil, false},
	}
	for _, tc := range cases {
		got, err := parseOverrides(tc.in)
		if (err == nil) != tc.ok {
			t.Errorf("parseOverrides(%q) err = %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("parseOverrides(%q) = %v, want %v", tc.in, got, tc.want)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("parseOverrides(%q)[%q] = %q, want %q", tc.in, k, got[k], v)
			}
		}
	}
}
