package main

import (
	"runtime"
	"testing"
)

// The REPL runs on one P unless the user set GOMAXPROCS (see replProcs).
func TestReplProcs(t *testing.T) {
	// Not parallel: it changes the process's GOMAXPROCS.
	prev := runtime.GOMAXPROCS(2)
	defer runtime.GOMAXPROCS(prev)
	replProcs(func(k string) (string, bool) {
		if k == "GOMAXPROCS" {
			return "2", true
		}
		return "", false
	})
	if n := runtime.GOMAXPROCS(0); n != 2 {
		t.Fatalf("GOMAXPROCS set by the user: %d Ps, want the user's 2", n)
	}
	replProcs(func(string) (string, bool) { return "", false })
	if n := runtime.GOMAXPROCS(0); n != 1 {
		t.Fatalf("GOMAXPROCS unset: %d Ps, want 1", n)
	}
}
