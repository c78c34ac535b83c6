//go:build !linux

package childproc

import "syscall"

// dieWithParent has no portable equivalent outside Linux: there, children watch their
// standard input (see Start) or are stopped by the harness.
func dieWithParent() *syscall.SysProcAttr { return nil }
