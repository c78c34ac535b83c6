package childproc

import "syscall"

// dieWithParent makes the kernel SIGKILL the child when the thread that started it ends,
// which for a Go program is when the program ends: a harness killed in any way leaves no
// server or worker behind. (The runtime only retires a thread whose goroutine locked it and
// exited without unlocking; nothing here does that.)
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
