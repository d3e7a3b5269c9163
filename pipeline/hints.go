package pipeline

import "encoding/json"

// HintIDs returns the ids of a plan node's hints (its "hints" member: an array
// of objects with an "id"), in order, without empty or repeated ids. Hints
// that are not in that shape give no ids; they never fail a job.
func HintIDs(hints json.RawMessage) []string {
	if len(hints) == 0 {
		return nil
	}
	var list []struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(hints, &list) != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, h := range list {
		var id string
		if json.Unmarshal(h.ID, &id) != nil {
			var n json.Number
			if json.Unmarshal(h.ID, &n) != nil {
				continue
			}
			id = n.String()
		}
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
