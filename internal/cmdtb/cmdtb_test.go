package cmdtb

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestFatalBecomesAnError(t *testing.T) {
	tb := New("helper", &bytes.Buffer{})
	err := tb.Run(func() { tb.Fatalf("no %s", "binaries") })
	if err == nil || err.Error() != "helper: no binaries" {
		t.Errorf("Run = %v, want the Fatal's message", err)
	}
	if err := tb.Run(func() { tb.Fatal("a", 1) }); err == nil || !strings.Contains(err.Error(), "a1") {
		t.Errorf("Run = %v", err)
	}
	if err := tb.Run(func() {}); err != nil {
		t.Errorf("Run of a call that succeeds = %v", err)
	}
}

func TestOtherPanicsGoOn(t *testing.T) {
	tb := New("helper", &bytes.Buffer{})
	boom := errors.New("boom")
	defer func() {
		if r := recover(); r != boom {
			t.Errorf("recovered %v, want the original panic", r)
		}
	}()
	_ = tb.Run(func() { panic(boom) })
}

func TestCleanupsRunLastFirstOnce(t *testing.T) {
	var out bytes.Buffer
	tb := New("helper", &out)
	var order []int
	tb.Cleanup(func() { order = append(order, 1) })
	tb.Cleanup(func() { order = append(order, 2) })
	tb.Close()
	tb.Close()
	if len(order) != 2 || order[0] != 2 || order[1] != 1 {
		t.Errorf("cleanups ran in order %v, want [2 1]", order)
	}
	tb.Errorf("e %d", 1)
	tb.Logf("l %d", 2)
	if out.String() != "e 1\nl 2\n" {
		t.Errorf("printed %q", out.String())
	}
	if tb.Name() != "helper" {
		t.Errorf("Name = %q", tb.Name())
	}
}
