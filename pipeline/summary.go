package pipeline

import "fmt"

// Summary is the one-line account of a settled intake item.
type Summary struct {
	Claim         string `json:"claim"`
	CorrelationID string `json:"correlation_id"`
	Key           string `json:"-"`
	Name          string `json:"name,omitempty"`
	Version       string `json:"version,omitempty"`
	// Status is a manifest status, or "rejected" for an item the dequeue
	// stage refused.
	Status   string `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Requeued bool   `json:"requeued,omitempty"`
}

// StatusRejected is the Summary status of an item that never became a request.
const StatusRejected = "rejected"

// StatusPublished is the Summary status of an intake item released once its
// message was stored in a durable transport (not an outcome).
const StatusPublished = "published"

func (s Summary) String() string {
	name := s.Name
	if name == "" {
		name = "(invalid item)"
	}
	if s.Version != "" {
		name += " " + s.Version
	}
	line := fmt.Sprintf("%-9s %s", s.Status, name)
	if s.Detail != "" {
		line += ": " + s.Detail
	}
	return line
}
