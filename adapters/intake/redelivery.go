package intake

// ClaimNeverRedelivers says whether the backend's Claim hands out only items
// no worker held before, a dead worker's items coming back only through
// Recover (pipeline.DrainOptions.ClaimNeverRedelivers: no journal refresh is
// then needed after each claim).
//
//   - file: Claim takes queued items; Recover takes the in-flight entries of
//     dead owners.
//   - redis: Claim moves items from the list (and due delayed ones, which
//     were requeued with their outcome settled); Recover takes over the
//     processing lists of owners whose liveness key expired.
//   - kafka: false. After a rebalance Claim fetches from the committed
//     offset, so a dead or departed worker's unsettled messages come back
//     through Claim (Recover returns nothing).
//   - controlplane: false. The build queue leases again, through the same
//     pop, a build whose lease expired on another worker.
func ClaimNeverRedelivers(backend string) bool {
	switch backend {
	case "file", "redis":
		return true
	default:
		return false
	}
}
