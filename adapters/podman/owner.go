package podman

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// LabelOwner names the worker process that started a container:
// "<boot id>/<pid>/<start time in clock ticks>" (Linux /proc). Cleanup and
// the leftover-name retry never remove a container whose owner is another
// process still alive on this host: two workers sharing a WORKER_ID (or a
// host name, the default container owner) no longer remove each other's
// running builds at start.
const LabelOwner = "refinery.owner"

// ProcessIdentity returns the owner identity of process pid, or an error when
// /proc cannot tell (not Linux, process gone).
func ProcessIdentity(pid int) (string, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", fmt.Errorf("read boot id: %w", err)
	}
	start, err := processStart(pid)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(boot)) + "/" + strconv.Itoa(pid) + "/" + start, nil
}

// processStart is field 22 of /proc/<pid>/stat (starttime), which tells a
// process from a later one that reuses its pid.
func processStart(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", fmt.Errorf("read process %d stat: %w", pid, err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return "", fmt.Errorf("process %d stat: no command field", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	const startField = 22 - 3 // fields after ")" start at field 3
	if len(fields) <= startField {
		return "", fmt.Errorf("process %d stat: %d fields", pid, len(fields)+2)
	}
	return fields[startField], nil
}

// ownerAlive reports whether owner (a LabelOwner value) is a process still
// running on this host. An empty or malformed owner, another boot, a pid
// that is gone or reused: not alive.
func ownerAlive(owner string) bool {
	parts := strings.Split(owner, "/")
	if len(parts) != 3 {
		return false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return false
	}
	id, err := ProcessIdentity(pid)
	return err == nil && id == owner
}

// removable says whether a container of this worker's label may be removed
// by this process: it has no owner, or the owner is this process, or the
// owner is gone.
func (c *Commander) removable(owner string) bool {
	return owner == "" || owner == c.owner || !ownerAlive(owner)
}
