// Package childproc runs the processes of Herald's harnesses: the fleet's real binaries and
// nats-server, started as children so that they can be stopped gracefully, SIGKILLed and
// restarted, with their CPU time and memory read from /proc.
//
// It is shared by the benchmark (cmd/herald-bench), the fault suite (cmd/herald-chaos) and
// internal/natsproc, and depends on nothing of testing: a command and a test use it alike.
//
// A child is started with Start from a Spec. Its output goes to a log file, its environment
// is this process's without the NOTIFICATIONS_ variables (so that the harness's own
// configuration never leaks into a child) plus the Spec's, and on Linux it is killed when
// this process dies, however it dies, so that no server outlives its harness:
//
//	p, err := childproc.Start(childproc.Spec{Name: "worker-1", Path: bin, Args: []string{"--channel", "webhook"},
//		Env: []string{"NOTIFICATIONS_NATS_URL=" + url}, LogFile: filepath.Join(dir, "worker-1.log")})
//	...
//	p.Kill()                 // SIGKILL: no draining, no acks
//	p.Stop(30 * time.Second) // SIGTERM, then SIGKILL after the grace period
//
// GoBuild builds commands of this module into a directory, WaitFor polls a condition with a
// deadline, FreePort asks the kernel for a loopback port, and Tail quotes the end of a log.
package childproc
