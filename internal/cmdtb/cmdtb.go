// Package cmdtb lends the test helpers that take a testing.TB (the throwaway PostgreSQL of
// internal/testutil, the providers' fakes such as discordtest and emailtest) to commands: the
// benchmark and the fault suite run them outside of go test.
//
// TB implements the few testing.TB methods those helpers call: Fatal stops the call in hand
// and Run returns it as an error, Errorf and Logf print, Cleanup registers what Close runs.
package cmdtb

import (
	"fmt"
	"io"
	"sync"
	"testing"
)

// TB is a testing.TB for commands. The embedded testing.TB is nil: a helper that starts to
// call another method panics at once, in the first run of the command, rather than misbehave.
// Its methods are safe for concurrent use.
type TB struct {
	testing.TB
	name string
	out  io.Writer

	mu       sync.Mutex
	cleanups []func()
}

// New returns a TB named name (what Name reports) that prints to out.
func New(name string, out io.Writer) *TB { return &TB{name: name, out: out} }

// fatal carries a Fatal's message from the panic that stops the call to Run.
type fatal string

// Helper does nothing: there is no test output to attribute lines in.
func (t *TB) Helper() {}

// Name returns the name given to New.
func (t *TB) Name() string { return t.name }

// Cleanup registers f for Close, which runs the functions last registered first.
func (t *TB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// Errorf prints the message; nothing fails.
func (t *TB) Errorf(format string, args ...any) { fmt.Fprintf(t.out, format+"\n", args...) }

// Logf prints the message.
func (t *TB) Logf(format string, args ...any) { fmt.Fprintf(t.out, format+"\n", args...) }

// Fatalf stops the call in hand: Run returns the message as its error.
func (t *TB) Fatalf(format string, args ...any) { panic(fatal(fmt.Sprintf(format, args...))) }

// Fatal stops the call in hand: Run returns the message as its error.
func (t *TB) Fatal(args ...any) { panic(fatal(fmt.Sprint(args...))) }

// Run calls f, which uses t, and returns a Fatal inside it as an error. Any other panic goes
// on.
func (t *TB) Run(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			msg, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s: %s", t.name, msg)
		}
	}()
	f()
	return nil
}

// Close runs the registered cleanups, the last registered first, and forgets them.
func (t *TB) Close() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
