package podman

import (
	"os"
	"syscall"
)

// streamPipe returns a pipe for a child's output: the read end is
// non-blocking and on Go's poller (reads can be cut short by Close, as
// os.Pipe's), the write end is a plain blocking fd for the child. os.Pipe
// puts both ends on the poller, and the child's end then costs a switch back
// to blocking when it is handed over and a poller removal when it is closed:
// six system calls fewer per pipe. The read end's status flags are known
// (O_RDONLY), so O_NONBLOCK is set with one fcntl, not a read and a write.
func streamPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(p[0]), syscall.F_SETFL, syscall.O_NONBLOCK); e != 0 {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, nil, os.NewSyscallError("fcntl", e)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
