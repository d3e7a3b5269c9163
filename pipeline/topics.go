package pipeline

// Topic names between the stages. Each stage reads one and writes the next.
const (
	TopicRequests = "worker.requests" // dequeue → plan
	TopicPlanned  = "worker.planned"  // plan → match
	TopicJobs     = "worker.jobs"     // match → build
	TopicResults  = "worker.results"  // build (or an earlier terminal outcome) → report
	TopicReported = "worker.reported" // report → requeue
	TopicPoison   = "worker.poison"   // dequeue → rejection recorder
	TopicIntake   = "worker.intake"   // intake → dequeue (raw queue items)
)
