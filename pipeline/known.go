package pipeline

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/refinery/refinery-worker/pipeline/jsonscan"
)

// decodeKnown decodes the JSON object b into dst, a struct whose JSON names
// are the keys of known, and returns the members that are not known. Keys
// match exactly, as the contract spells them: encoding/json alone matches
// struct fields case-insensitively, so an unknown "Attempts" would overwrite
// "attempts"; such a key is kept out of dst and stays an unknown member.
//
// The usual case (an object without such keys) costs one scan for the
// member names and one decode. Anything else (a key folding onto a known
// one, a value that is not an object, input the scan cannot follow) goes the
// slow way, which also produces encoding/json's errors; FuzzDecodeKnown
// checks that both ways agree.
func decodeKnown(b []byte, dst any, known map[string]bool) (map[string]json.RawMessage, error) {
	var extra map[string]json.RawMessage
	slow := false
	ok := jsonscan.ObjectMembers(b, func(rawKey, val []byte) {
		k, ok := memberName(rawKey)
		switch {
		case !ok:
			slow = true
		case known[k]:
		default:
			if extra == nil {
				extra = map[string]json.RawMessage{}
			}
			extra[k] = bytes.Clone(val)
			slow = slow || foldsToKnown(k, known)
		}
	})
	if !ok || slow {
		return decodeKnownSlow(b, dst, known)
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return nil, err
	}
	return extra, nil
}

// decodeKnownSlow is decodeKnown through a map of every member.
func decodeKnownSlow(b []byte, dst any, known map[string]bool) (map[string]json.RawMessage, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	var extra map[string]json.RawMessage
	folds := false
	for k, v := range all {
		if known[k] {
			continue
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[k] = v
		folds = folds || foldsToKnown(k, known)
	}
	if folds {
		exact := make(map[string]json.RawMessage, len(all))
		for k, v := range all {
			if known[k] {
				exact[k] = v
			}
		}
		var err error
		if b, err = json.Marshal(exact); err != nil {
			return nil, err
		}
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return nil, err
	}
	return extra, nil
}

// foldsToKnown reports whether k equals a known key but for case.
func foldsToKnown(k string, known map[string]bool) bool {
	for name := range known {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// memberName is the name a raw (quoted) member key decodes to. Plain ASCII
// is read as is; escapes and other bytes go through encoding/json, which
// also maps invalid UTF-8 as it does for map keys.
func memberName(rawKey []byte) (string, bool) {
	inner := rawKey[1 : len(rawKey)-1]
	for _, c := range inner {
		if c < 0x20 || c >= 0x80 || c == '\\' || c == '"' {
			var s string
			err := json.Unmarshal(rawKey, &s)
			return s, err == nil
		}
	}
	return string(inner), true
}
