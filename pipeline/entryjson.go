package pipeline

import (
	"encoding/json"
	"slices"
	"strconv"
)

// MarshalJSON encodes the entry exactly as encoding/json encodes its fields
// (same order, omitempty, metadata keys sorted, HTML-safe escaping), only
// faster: every outcome is encoded once for the manifest's journal, and the
// reflection over the metadata map was most of the manifest's CPU. Values of
// the common metadata types are written directly; anything else (named
// types, floats, text needing escapes) goes through encoding/json, so the
// bytes never differ (a property test compares them).
func (e ManifestEntry) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2048) // a typical entry is 1-2 KB
	b = append(b, `{"name":`...)
	b = appendJSONString(b, e.Name)
	b = append(b, `,"version":`...)
	b = appendJSONString(b, e.Version)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(e.Status))
	for _, f := range []struct{ key, v string }{
		{`,"python_tag":`, e.PythonTag}, {`,"platform_tag":`, e.PlatformTag}, {`,"wheel":`, e.Wheel},
	} {
		if f.v != "" {
			b = append(b, f.key...)
			b = appendJSONString(b, f.v)
		}
	}
	if len(e.Metadata) > 0 {
		b = append(b, `,"metadata":`...)
		var err error
		if b, err = appendJSONMap(b, e.Metadata); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONValue appends v as encoding/json would.
func appendJSONValue(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	case int64:
		return strconv.AppendInt(b, v, 10), nil
	case []string:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		return append(b, ']'), nil
	case []any:
		if v == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSONValue(b, x); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		if v == nil {
			return append(b, "null"...), nil
		}
		return appendJSONMap(b, v)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, raw...), nil
}

// appendJSONMap appends m with its keys sorted, as encoding/json does.
func appendJSONMap(b []byte, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendJSONValue(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendJSONString appends s quoted. Text of printable ASCII without the
// characters JSON or HTML-safe JSON escapes (" \ < > &) is copied as it is;
// other text goes through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
