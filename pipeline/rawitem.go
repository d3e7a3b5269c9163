package pipeline

import (
	"encoding/json"
	"math"
	"strconv"
)

// RawItem is the bytes an intake hands to the pipeline for an item it read:
// the item itself when it is JSON, else a JSON string of it (a Work carries
// JSON only; the dequeue stage then rejects it with a reason).
func RawItem(b []byte) []byte {
	if json.Valid(b) {
		return b
	}
	s, _ := json.Marshal(string(b))
	return s
}

// ItemNotBefore reads a numeric not_before (Unix seconds) of a JSON object
// item; ok is false when there is none, it is not a number, or it is a value
// the dequeue stage refuses (ValidIntField): such an item is no delay, it is
// handed out at once and rejected with a reason, never held forever.
func ItemNotBefore(item []byte) (notBefore float64, ok bool) {
	var v struct {
		NotBefore json.RawMessage `json:"not_before"`
	}
	if json.Unmarshal(item, &v) != nil || len(v.NotBefore) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.NotBefore), 64)
	if err != nil || !ValidIntField(f) {
		return 0, false
	}
	return f, true
}

// ValidIntField reports whether f is a value the dequeue stage accepts for
// an integer field (not_before, enqueued_at, ...): whole, within ±2^53.
func ValidIntField(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) <= maxIntField
}

// maxIntField bounds integer fields: the integers a float64 holds exactly.
const maxIntField = 1 << 53
