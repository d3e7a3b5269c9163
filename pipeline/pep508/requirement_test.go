package pep508

import (
	"errors"
	"slices"
	"testing"
)

func TestParseRequirement(t *testing.T) {
	tests := []struct {
		in     string
		name   string
		extras []string
		spec   string
		url    string
		marker string
		canon  string
	}{
		{in: "requests", name: "requests", canon: "requests"},
		{in: "lxml==5.2.1", name: "lxml", spec: "==5.2.1", canon: "lxml==5.2.1"},
		{in: "PyYAML>=6.0,<7", name: "PyYAML", spec: ">=6.0,<7", canon: "PyYAML>=6.0,<7"},
		{in: `requests[socks]~=2.31 ; python_version >= "3.8"`, name: "requests", extras: []string{"socks"},
			spec: "~=2.31", marker: `python_version >= "3.8"`, canon: `requests[socks]~=2.31; python_version >= "3.8"`},
		{in: "name [ Fred , Bar_Baz, fred ] ( >= 1.0 , < 2 )", name: "name", extras: []string{"fred", "bar-baz"},
			spec: ">=1.0,<2", canon: "name[fred,bar-baz]>=1.0,<2"},
		{in: "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee", name: "pip",
			url:   "https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee",
			canon: "pip @ https://github.com/pypa/pip/archive/1.3.1.zip#sha1=da9234ee"},
		{in: `name@http://foo.com ; python_version=='2.7'`, name: "name", url: "http://foo.com",
			marker: `python_version == "2.7"`, canon: `name @ http://foo.com ; python_version == "2.7"`},
		{in: `name;os_name=="a" or os_name=="b"`, name: "name", marker: `os_name == "a" or os_name == "b"`,
			canon: `name; os_name == "a" or os_name == "b"`},
		{in: `zope.interface ; extra == 'test'`, name: "zope.interface", marker: `extra == "test"`,
			canon: `zope.interface; extra == "test"`},
		{in: "six==1.16.0", name: "six", spec: "==1.16.0", canon: "six==1.16.0"},
		{in: "x ===foo", name: "x", spec: "===foo", canon: "x===foo"},
		{in: "x[]", name: "x", canon: "x"},
	}
	for _, tt := range tests {
		r, err := ParseRequirement(tt.in)
		if err != nil {
			t.Errorf("ParseRequirement(%q): %v", tt.in, err)
			continue
		}
		if r.Name != tt.name || !slices.Equal(r.Extras, tt.extras) || r.Specifiers.String() != tt.spec ||
			r.URL != tt.url || r.Marker.String() != tt.marker {
			t.Errorf("ParseRequirement(%q) = name %q extras %q spec %q url %q marker %q", tt.in,
				r.Name, r.Extras, r.Specifiers, r.URL, r.Marker)
		}
		if got := r.String(); got != tt.canon {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.canon)
		}
		if again, err := ParseRequirement(r.String()); err != nil || again.String() != r.String() {
			t.Errorf("round trip of %q: %v %q", r.String(), err, again)
		}
		if r.IsURL() != (tt.url != "") {
			t.Errorf("IsURL(%q) = %v", tt.in, r.IsURL())
		}
	}
}

func TestParseRequirementRejects(t *testing.T) {
	for _, in := range []string{
		"", "-e .", "./local", "name[", "name[fo o]", "name >=", "name 1.0", "name==1.0 extra",
		"name @", "name @ nourl", "name @ http://x junk", "name; python_version", "name; nope == '1'",
		`name; os_name == "unterminated`, "name (>=1.0", "git+https://x/y.git", "name==1.0;",
		"name; (os_name == 'a'", "name[a]]",
	} {
		if r, err := ParseRequirement(in); err == nil {
			t.Errorf("ParseRequirement(%q) = %q, want error", in, r)
		} else if !errors.Is(err, ErrInvalidRequirement) {
			t.Errorf("ParseRequirement(%q): %v does not wrap ErrInvalidRequirement", in, err)
		}
	}
}
