package podman

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func TestOwnerAlive(t *testing.T) {
	self, err := ProcessIdentity(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	p := exec.Command("true")
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	exited, err := ProcessIdentity(p.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(self, "/")
	for _, c := range []struct {
		name, owner string
		alive       bool
	}{
		{"this process", self, true},
		{"a process that exited", exited, false},
		{"a reused pid (other start time)", parts[0] + "/" + parts[1] + "/1", false},
		{"another boot", "00000000-0000-0000-0000-000000000000/" + parts[1] + "/" + parts[2], false},
		{"empty", "", false},
		{"malformed", "12345", false},
		{"bad pid", parts[0] + "/-1/" + parts[2], false},
	} {
		if got := ownerAlive(c.owner); got != c.alive {
			t.Errorf("%s: ownerAlive(%q) = %v, want %v", c.name, c.owner, got, c.alive)
		}
	}
}

// A command name with spaces and parentheses does not shift the fields.
func TestProcessStartOddCommandName(t *testing.T) {
	dir := t.TempDir()
	bin := dir + "/odd (name) x"
	if err := os.Symlink("/bin/sleep", bin); err != nil {
		t.Fatal(err)
	}
	p := exec.Command(bin, "30")
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = p.Process.Kill(); _ = p.Wait() }()
	id, err := ProcessIdentity(p.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if !ownerAlive(id) {
		t.Errorf("identity %q of a running process is not alive", id)
	}
	self, _ := ProcessIdentity(os.Getpid())
	// The child started after this process: a field shifted by the spaces in
	// its name would read num_threads or nice (small numbers) instead.
	childStart, _ := strconv.ParseInt(strings.Split(id, "/")[2], 10, 64)
	selfStart, _ := strconv.ParseInt(strings.Split(self, "/")[2], 10, 64)
	if selfStart <= 0 || childStart < selfStart {
		t.Errorf("start times: child %d (%q), this process %d; want child ≥ this > 0", childStart, id, selfStart)
	}
}
