package podman

import (
	"os"
	"syscall"
)

// streamPipe returns a pipe for a child's output stream: the read end is
// non-blocking and on Go's poller (reads can be cut short by Close, as
// os.Pipe's), the write end is a plain blocking fd for the child. os.Pipe
// puts both ends on the poller, and the child's end then costs a switch back
// to blocking when it is handed over and a poller removal when it is closed:
// six system calls fewer per pipe, two pipes per container.
func streamPipe() (r, w *os.File, err error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	if err := syscall.SetNonblock(p[0], true); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return nil, nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(p[0]), "|0"), os.NewFile(uintptr(p[1]), "|1"), nil
}
