package pipeline

import (
	"encoding/json"
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
// item; ok is false when there is none or it is not a number.
func ItemNotBefore(item []byte) (notBefore float64, ok bool) {
	var v struct {
		NotBefore json.RawMessage `json:"not_before"`
	}
	if json.Unmarshal(item, &v) != nil || len(v.NotBefore) == 0 {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(v.NotBefore), 64)
	return f, err == nil
}
